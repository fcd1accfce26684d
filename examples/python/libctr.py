"""A thin ctypes binding of libctr, with a small object layer.

Every libctr call has one shape: outputs first, then the object, the inputs,
an array of options with its length, and a ctr_error out-parameter. This
module declares the calls it uses with that shape, builds option arrays from
ctr_with_* constructors (freed with ctr_opt_free right after the call that
borrows them), and turns a failed call into a CtrError carrying the code and
message of the ctr_error.

The library: $LIBCTR_LIBRARY (a path) when set, else $MESON_BUILD_ROOT's
libctr.so.0 (meson test sets it), else libctr.so.0 as the dynamic loader
finds it: the build tree's under `meson devenv`, the installed one
otherwise.

    import libctr
    with libctr.Client(root, state) as client:
        with client.pull(ref, libctr.Opt("pull_unpack")) as image:
            ...
"""

import ctypes
import os

# Error codes (ctr/common.h); their values never change.
OK = 0
ENOTFOUND = -1
EEXISTS = -2
EINVAL = -3
EPRECONDITION = -4
EUNAVAILABLE = -5
ENOTSUP = -6
EPERM = -7
EBUSY = -8
ECANCELED = -9
ETIMEOUT = -10
EDIGEST = -11
EIO = -12
ENOMEM = -13


def _load():
    path = os.environ.get("LIBCTR_LIBRARY")
    if not path and os.environ.get("MESON_BUILD_ROOT"):
        candidate = os.path.join(os.environ["MESON_BUILD_ROOT"], "libctr.so.0")
        if os.path.exists(candidate):
            path = candidate
    return ctypes.CDLL(path or "libctr.so.0")


_lib = _load()

_p = ctypes.c_void_p
_s = ctypes.c_char_p
_size = ctypes.c_size_t
_int = ctypes.c_int
_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64
_pp = ctypes.POINTER(ctypes.c_void_p)
_err = ctypes.POINTER(ctypes.c_void_p)
_strv = ctypes.POINTER(ctypes.c_char_p)


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# Errors, memory, version.
_error_code_of = _fn("ctr_error_code_of", _int, _p)
_error_message = _fn("ctr_error_message", _s, _p)
_error_errno = _fn("ctr_error_errno", _int, _p)
_error_free = _fn("ctr_error_free", None, _p)
_strerror = _fn("ctr_strerror", _s, _int)
_free = _fn("ctr_free", None, _p)
_version = _fn("ctr_version", _s)
_opt_free = _fn("ctr_opt_free", None, _p)
_opt_name = _fn("ctr_opt_name", _s, _p)

# The calls the object layer uses: (outputs..., object, inputs..., opts, n_opts, err).
_client_new = _fn("ctr_client_new", _int, _pp, _pp, _size, _err)
_client_free = _fn("ctr_client_free", None, _p)
_client_root = _fn("ctr_client_root", _s, _p)
_client_namespace = _fn("ctr_client_namespace", _s, _p)
_image_pull = _fn("ctr_image_pull", _int, _pp, _p, _s, _pp, _size, _err)
_image_get = _fn("ctr_image_get", _int, _pp, _p, _s, _pp, _size, _err)
_image_delete = _fn("ctr_image_delete", _int, _p, _s, _pp, _size, _err)
_image_name = _fn("ctr_image_name", _s, _p)
_image_target_digest = _fn("ctr_image_target_digest", _s, _p)
_image_config = _fn("ctr_image_config", _int, ctypes.POINTER(_p), _p, _err)
_image_free = _fn("ctr_image_free", None, _p)
_container_new = _fn("ctr_container_new", _int, _pp, _p, _s, _pp, _size, _err)
_container_id = _fn("ctr_container_id", _s, _p)
_container_new_task = _fn("ctr_container_new_task", _int, _pp, _p, _pp, _size, _err)
_container_delete = _fn("ctr_container_delete", _int, _p, _pp, _size, _err)
_container_free = _fn("ctr_container_free", None, _p)
_task_start = _fn("ctr_task_start", _int, _p, _err)
_task_wait = _fn("ctr_task_wait", _int, ctypes.POINTER(_u32), ctypes.POINTER(_u64), _p, _int, _err)
_task_kill = _fn("ctr_task_kill", _int, _p, _int, _pp, _size, _err)
_task_delete = _fn("ctr_task_delete", _int, ctypes.POINTER(_u32), _p, _pp, _size, _err)
_task_pid = _fn("ctr_task_pid", _u32, _p)
_task_free = _fn("ctr_task_free", None, _p)

# Option constructors: ctr_with_<name>, with the types of their arguments.
# "strv" is a NULL-terminated array of strings, "handle" a libctr object.
_OPTIONS = {
    "root": ["str"],
    "state": ["str"],
    "namespace": ["str"],
    "call_namespace": ["str"],
    "lease": ["str"],
    "plain_http": [],
    "hosts_dir": ["str"],
    "skip_verify": [],
    "platform": ["str"],
    "pull_unpack": [],
    "pull_snapshotter": ["str"],
    "pull_labels": ["strv"],
    "image": ["handle"],
    "new_snapshot": ["str", "handle"],
    "new_snapshot_view": ["str", "handle"],
    "snapshot": ["str"],
    "snapshotter": ["str"],
    "spec": ["str"],
    "runtime": ["str"],
    "container_labels": ["strv"],
    "snapshot_cleanup": [],
    "stdio_null": [],
    "stdio_inherit": [],
    "log_uri": ["str"],
    "process_kill": [],
    "kill_all": [],
    "image_config": ["str"],
    "image_config_args": ["str", "strv"],
    "process_args": ["strv"],
    "env": ["strv"],
    "cwd": ["str"],
    "hostname": ["str"],
    "mounts_removed": ["strv"],
    "rootfs_readonly": [],
}
_ARGTYPES = {"str": _s, "strv": _strv, "handle": _p}

# Handles alive in this process: created by a call, not yet freed. A
# program can check it reaches 0 (see live_objects).
_live = set()


def version():
    return _version().decode()


def strerror(code):
    return _strerror(code).decode()


def live_objects():
    """How many libctr objects (clients, images, containers, tasks,
    options) this module made and has not freed yet."""
    return len(_live)


class CtrError(Exception):
    """A failed call: .code is a CTR_E* value (e.g. libctr.ENOTFOUND),
    .message the library's message, .errno the errno behind it (or 0)."""

    def __init__(self, code, message, errno=0):
        super().__init__("%s (%s)" % (message, strerror(code)))
        self.code = code
        self.message = message
        self.errno = errno


def _raise_if(r, err):
    """Frees err and raises CtrError when r is negative."""
    if r >= 0:
        return r
    if err:
        e = CtrError(_error_code_of(err), _error_message(err).decode(), _error_errno(err))
        _error_free(err)
    else:
        e = CtrError(r, strerror(r))
    raise e


def _strv_arg(values):
    arr = (ctypes.c_char_p * (len(values) + 1))()
    for i, v in enumerate(values):
        arr[i] = v.encode()
    arr[len(values)] = None
    return arr


class _Handle:
    """A libctr object with the function that frees it."""

    _free_fn = None

    def __init__(self, ptr):
        self._ptr = ptr
        _live.add(id(self))

    @property
    def ptr(self):
        if self._ptr is None:
            raise ValueError("%s used after free" % type(self).__name__)
        return self._ptr

    def free(self):
        if self._ptr is not None:
            type(self)._free_fn(self._ptr)
            self._ptr = None
            _live.discard(id(self))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()


class Opt(_Handle):
    """An option object: Opt("plain_http") calls ctr_with_plain_http(),
    Opt("new_snapshot", "key", image) calls ctr_with_new_snapshot("key",
    image's handle). NewSpec(...) makes ctr_with_new_spec."""

    _free_fn = staticmethod(_opt_free)

    def __init__(self, name, *args):
        kinds = _OPTIONS.get(name)
        if kinds is None:
            raise ValueError("unknown option ctr_with_%s" % name)
        if len(args) != len(kinds):
            raise TypeError("ctr_with_%s takes %d arguments" % (name, len(kinds)))
        ctor = _fn("ctr_with_" + name, _p, *[_ARGTYPES[k] for k in kinds])
        conv = []
        for kind, a in zip(kinds, args):
            if kind == "str":
                conv.append(a.encode())
            elif kind == "strv":
                conv.append(_strv_arg(a))
            else:
                conv.append(a.ptr)
        ptr = ctor(*conv)
        if not ptr:
            raise CtrError(EINVAL, "ctr_with_%s: refused its arguments or out of memory" % name)
        super().__init__(ptr)

    @property
    def name(self):
        return _opt_name(self.ptr).decode()


class NewSpec(Opt):
    """ctr_with_new_spec(spec options): the array and the spec options are
    borrowed until this option is freed, so it keeps the array and frees
    the options after itself."""

    def __init__(self, *spec_opts):
        self._children = list(spec_opts)
        self._array, n = _opt_array(self._children)
        ctor = _fn("ctr_with_new_spec", _p, _pp, _size)
        ptr = ctor(self._array, n)
        if not ptr:
            for o in self._children:
                o.free()
            raise CtrError(ENOMEM, "ctr_with_new_spec: out of memory")
        _Handle.__init__(self, ptr)

    def free(self):
        super().free()
        for o in self._children:
            o.free()


def _opt_array(opts):
    """The (const ctr_opt *const *opts, size_t n_opts) pair for opts."""
    arr = (ctypes.c_void_p * max(len(opts), 1))(*[o.ptr for o in opts])
    return arr, len(opts)


def _call(fn, opts, *args):
    """Calls fn(*args, opts, n_opts, &err) and frees opts afterwards,
    whatever the result. Raises CtrError on failure."""
    try:
        arr, n = _opt_array(opts)
        err = ctypes.c_void_p()
        r = fn(*args, arr, n, ctypes.byref(err))
        return _raise_if(r, err)
    finally:
        for o in opts:
            o.free()


class Client(_Handle):
    """ctr_client_new with ctr_with_root and ctr_with_state (and more
    client options)."""

    _free_fn = staticmethod(_client_free)

    def __init__(self, root, state, *opts):
        out = ctypes.c_void_p()
        _call(_client_new, [Opt("root", root), Opt("state", state), *opts], ctypes.byref(out))
        super().__init__(out.value)

    @property
    def root(self):
        return _client_root(self.ptr).decode()

    @property
    def namespace(self):
        return _client_namespace(self.ptr).decode()

    def pull(self, ref, *opts):
        """ctr_image_pull; the options (Opt objects) are freed."""
        out = ctypes.c_void_p()
        _call(_image_pull, list(opts), ctypes.byref(out), self.ptr, ref.encode())
        return Image(out.value)

    def image(self, name, *opts):
        out = ctypes.c_void_p()
        _call(_image_get, list(opts), ctypes.byref(out), self.ptr, name.encode())
        return Image(out.value)

    def delete_image(self, name, *opts):
        _call(_image_delete, list(opts), self.ptr, name.encode())

    def new_container(self, cid, *opts):
        """ctr_container_new with container options, e.g. Opt("image", img),
        Opt("new_snapshot", key, img), NewSpec(Opt("image_config", cfg))."""
        out = ctypes.c_void_p()
        _call(_container_new, list(opts), ctypes.byref(out), self.ptr, cid.encode())
        return Container(out.value)


class Image(_Handle):
    _free_fn = staticmethod(_image_free)

    @property
    def name(self):
        return _image_name(self.ptr).decode()

    @property
    def digest(self):
        return _image_target_digest(self.ptr).decode()

    def config(self):
        """The OCI image config, JSON text (ctr_image_config)."""
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        _raise_if(_image_config(ctypes.byref(out), self.ptr, ctypes.byref(err)), err)
        try:
            return ctypes.string_at(out.value).decode()
        finally:
            _free(out)


class Container(_Handle):
    _free_fn = staticmethod(_container_free)

    @property
    def id(self):
        return _container_id(self.ptr).decode()

    def new_task(self, *opts):
        """ctr_container_new_task with task options (stdio)."""
        out = ctypes.c_void_p()
        _call(_container_new_task, list(opts), ctypes.byref(out), self.ptr)
        return Task(out.value)

    def delete(self, *opts):
        _call(_container_delete, list(opts), self.ptr)


class Task(_Handle):
    _free_fn = staticmethod(_task_free)

    @property
    def pid(self):
        return _task_pid(self.ptr)

    def start(self):
        err = ctypes.c_void_p()
        _raise_if(_task_start(self.ptr, ctypes.byref(err)), err)

    def wait(self, timeout_ms=-1):
        """The exit status (128 + signal when killed)."""
        status = ctypes.c_uint32()
        err = ctypes.c_void_p()
        _raise_if(_task_wait(ctypes.byref(status), None, self.ptr, timeout_ms, ctypes.byref(err)), err)
        return status.value

    def kill(self, sig, *opts):
        _call(_task_kill, list(opts), self.ptr, sig)

    def delete(self, *opts):
        """ctr_task_delete; returns the init's exit status."""
        status = ctypes.c_uint32()
        _call(_task_delete, list(opts), ctypes.byref(status), self.ptr)
        return status.value
