#!/usr/bin/env python3
"""The public API has one call shape (ARCHITECTURE.md, "The public call shape").

Usage: check-api-shape.py [INCLUDE_DIR]
       check-api-shape.py --self-test tests/fixtures/api-shape

Parses every declaration in include/ctr/*.h and include/ctr/sys/*.h and
fails, naming the function, on any call that breaks the shape. The rules
apply to every function alike; there is no list of exceptions.

  names    ctr_<object>_<verb>: the object is a public type (a typedef'd
           struct, or a struct vtable) or the service a header is named for
           (content.h -> content, namespaces.h -> namespace); the verb is
           one of containerd's (VERBS below), or the call is a getter (its
           object's handle is its only handle and is const, and it takes no
           options). The base headers (common.h, sys/alloc.h) declare the
           library-wide helpers (ctr_free, ctr_version...), which have no
           object. Option constructors are ctr_with_* and return ctr_opt *;
           nothing else returns a ctr_opt * but ctr_opt_<verb>.
  status   a call returning int that is not a getter ends with
           `ctr_error **err` (the call that makes an error, object `error`,
           takes it first, as its output). Status calls return int.
  order    outputs (non-const T **, non-const pointers to scalars and enums)
           first, then the object's handle, then inputs, then
           `const ctr_opt *const *opts, size_t n_opts` right before err.
  yes/no   no bare int input: int parameters are file descriptors, signals,
           timeouts and error codes, recognised by name (INT_NAMES);
           unsigned parameters are `unsigned flags`.
  opts     calls whose containerd counterparts take options (OPTS_VERBS:
           list, create, update, delete, kill, exec, ...) take opts, n_opts.
  answers  a status call that answers yes or no (is_*, has_*) gives it in
           its first parameter, `bool *out`, never an int.
  free     X_free(X *) and X_list_free(X **v, size_t n).
  ABI      no `...` and no va_list anywhere, in functions or callbacks.
"""
import os
import re
import sys

VERBS = {
    # object lifetime
    "new", "ref", "free", "list_free", "load", "register",
    # records (containerd's Store interfaces)
    "get", "list", "create", "update", "delete", "tag", "set_labels", "labels",
    "set_namespace", "info", "walk", "abort", "stat", "usage",
    # transfer and archives (containerd's client)
    "pull", "fetch", "push", "import", "import_rootfs", "export",
    # images (containerd's Image)
    "unpack", "is_unpacked", "check",
    # snapshots (containerd's Snapshotter and diff service)
    "prepare", "view", "mounts", "commit", "remove", "diff",
    # mounts
    "add", "mount", "unmount",
    # content readers and writers
    "open", "pread", "write",
    # leases (containerd's leases.Manager)
    "add_resource", "delete_resource", "list_resources",
    # containers, tasks and processes (containerd's Container, Task, Process)
    "new_task", "task", "image", "start", "wait", "status", "kill", "pause",
    "resume", "pids", "metrics", "spec", "exec", "load_process", "close_io",
    "resize", "checkpoint",
    # containerd's GetStopSignal and GetOCIStopSignal
    "stop_signal",
    # a process's IO (containerd's Process.IO() and cio.NewAttach)
    "io", "attach",
    # containerd's Client.Restore and Client.Install
    "restore", "install",
    # events
    "publish", "subscribe", "next",
    # spec generation (containerd's oci package)
    "apply", "generate", "to_json",
    # garbage collection, errors, credentials
    "gc", "set",
}
# Calls whose containerd counterparts take options take opts, n_opts, so
# they can grow without a new symbol.
OPTS_VERBS = {"list", "create", "update", "delete", "tag", "kill", "exec", "close_io", "commit",
              "checkpoint", "restore", "install", "pull", "fetch", "push", "import", "import_rootfs", "export",
              "new_task", "unpack", "load", "list_resources", "attach"}
INT_NAMES = {"fd", "sig", "default_sig", "timeout_ms", "code", "errnum"}
BASE_HEADERS = {"common.h", "sys/alloc.h"}
OPTS = ("const ctr_opt *const *", "opts")
N_OPTS = ("size_t", "n_opts")
ERR = ("ctr_error **", "err")
SCALARS = {"int", "unsigned", "unsigned int", "size_t", "int64_t", "uint64_t",
           "int32_t", "uint32_t", "double", "char", "void", "bool"}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def strip_preprocessor(text):
    # Drops directives, joined continuation lines included.
    out, cont = [], False
    for line in text.split("\n"):
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return "\n".join(out)


def split_param(p):
    """'const char *const *labels' -> ('const char*const*', 'labels')."""
    p = re.sub(r"\s+", " ", p.strip())
    m = re.match(r"^(.*?)([A-Za-z_][A-Za-z0-9_]*)$", p)
    if not m or not m.group(1).strip() or m.group(2) in ("int", "char", "long", "short", "void", "unsigned"):
        return ptype(p), ""
    return ptype(m.group(1)), m.group(2)


def ptype(t):
    return re.sub(r"\s+", " ", t).replace(" *", "*").replace("* ", "*").strip()


def split_params(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


class Api:
    def __init__(self):
        self.types = set()      # handle types: ctr_X (typedef'd structs)
        self.enums = set()
        self.objects = set()    # object names without ctr_
        self.funcs = []         # (header, ret, name, [(type, name)])
        self.callbacks = []     # (header, name, [(type, name)])
        self.errors = []

    def fail(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def read(self, rel, path):
        raw = open(path, encoding="utf-8").read()
        text = strip_preprocessor(strip_comments(raw))
        if "..." in text or "va_list" in text:
            for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*\)?\s*\([^;{}]*(\.\.\.|va_list)", text):
                self.fail(rel, f"{m.group(1)}: variadic (cgo cannot call it)")
            if not any(rel in e for e in self.errors):
                self.fail(rel, "declares `...` or va_list")
        for m in re.finditer(r"typedef\s+struct\s+ctr_(\w+)\s+ctr_(\w+)\s*;", text):
            self.types.add("ctr_" + m.group(2))
            self.objects.add(m.group(2))
        for m in re.finditer(r"struct\s+ctr_(\w+)_vtable\s*\{", text):
            self.objects.add(m.group(1))
        for m in re.finditer(r"typedef\s+enum\s+\w*\s*\{[^}]*\}\s*(ctr_\w+)\s*;", text, re.S):
            self.enums.add(m.group(1))
        stem = os.path.basename(rel)[:-2]
        if stem.endswith("s"):
            stem = stem[:-1]  # namespaces.h: the namespace service
        self.objects.add(stem)
        for m in re.finditer(r"CTR_EXPORT\s+([^;()]*?)\b(\w+)\s*\(([^;]*?)\)\s*;", text, re.S):
            ret, name, params = m.group(1), m.group(2), m.group(3)
            ps = [] if params.strip() in ("", "void") else [split_param(p) for p in split_params(params)]
            self.funcs.append((rel, ptype(ret), name, ps))
        # Callbacks (typedefs and vtable members) keep the ABI rules, and
        # those that take an error channel the call order too.
        for m in re.finditer(r"\(\s*\*\s*(\w+)\s*\)\s*\(((?:[^;()]|\([^;]*?\)\s*\([^;]*?\))*?)\)\s*;", text, re.S):
            if "..." in m.group(2) or "va_list" in m.group(2):
                self.fail(rel, f"callback {m.group(1)} is variadic")
            self.callbacks.append((rel, m.group(1), [split_param(p) for p in split_params(m.group(2))]))

    def is_handle(self, t):
        base = ptype(t).replace("const", "").replace("*", "").strip()
        return base in self.types and ptype(t).count("*") == 1

    def is_output(self, t, n):
        t = ptype(t)
        if (t, n) == (ptype(ERR[0]), ERR[1]):
            return False
        if t.startswith("const") and "*const" not in t:
            return False
        if t.endswith("**") and not t.startswith("const") and "const*" not in t:
            return True
        if t.count("*") == 1 and not t.startswith("const"):
            base = t[:-1].strip()
            return base in (SCALARS - {"void", "char"}) or base in self.enums
        return False

    def object_of(self, name):
        rest = name[4:]
        best = None
        for o in self.objects:
            if rest.startswith(o + "_") and (best is None or len(o) > len(best)):
                best = o
        return best

    def check_callback(self, rel, name, ps):
        where = f"{rel}: callback {name}"
        errs = [i for i, (t, _) in enumerate(ps) if ptype(t) == ptype(ERR[0])]
        if not errs:
            return
        if errs != [len(ps) - 1]:
            self.fail(where, "`ctr_error **err` is not the last parameter")
        seen_input = None
        for t, n in ps[:-1]:
            if self.is_output(t, n):
                if seen_input:
                    self.fail(where, f"output `{n}` comes after input `{seen_input}`")
            elif seen_input is None:
                seen_input = n or t

    def check(self, rel, ret, name, ps):
        where = name
        if not name.startswith("ctr_"):
            return self.fail(where, "name does not start with ctr_")
        types = [ptype(t) for t, _ in ps]
        handles = [i for i, (t, _) in enumerate(ps) if self.is_handle(t)]
        has_err = bool(ps) and (ptype(ps[-1][0]), ps[-1][1]) == (ptype(ERR[0]), ERR[1])
        errs = [i for i, (t, _) in enumerate(ps) if ptype(t) == ptype(ERR[0])]
        obj = self.object_of(name)
        # yes/no: int and unsigned parameters, by name
        for t, n in ps:
            if ptype(t) == "int" and n not in INT_NAMES:
                self.fail(where, f"bare int parameter `{n}` (a yes/no is a flag or an option; "
                          f"int is for {', '.join(sorted(INT_NAMES))})")
            if ptype(t) in ("unsigned", "unsigned int") and n != "flags":
                self.fail(where, f"unsigned parameter `{n}` is not `unsigned flags`")
        # options: exactly the pair, right before err
        for i, (t, n) in enumerate(ps):
            if ptype(t) == ptype(OPTS[0]):
                nxt = ps[i + 1] if i + 1 < len(ps) else None
                if not nxt or ptype(nxt[0]) != "size_t" or nxt[1] != "n_" + n:
                    self.fail(where, f"`{n}` is not followed by `size_t n_{n}`")
                if name.startswith("ctr_with_"):
                    continue
                if n != "opts":
                    self.fail(where, f"options named `{n}`, not `opts, n_opts`")
                if not has_err or i != len(ps) - 3:
                    self.fail(where, "`opts, n_opts` is not right before `ctr_error **err`")
        # option constructors
        if name.startswith("ctr_with_"):
            if ret != "ctr_opt*":
                self.fail(where, "option constructor does not return ctr_opt *")
            if errs:
                self.fail(where, "option constructor takes ctr_error **")
            return
        if ret == "ctr_opt*" and obj != "opt":
            return self.fail(where, "returns ctr_opt * but is not named ctr_with_*")
        # the error channel
        for i in errs:
            if obj == "error" and i == 0 and ps[i][1] == "err":
                continue
            if i != len(ps) - 1 or ps[i][1] != "err":
                self.fail(where, "`ctr_error **err` is not the last parameter")
        getter = (len(handles) == 1 and types[handles[0]].startswith("const")
                  and ptype(OPTS[0]) not in types)
        own_handle = obj is not None and handles and \
            types[handles[0]].replace("const", "").replace("*", "").strip() == "ctr_" + obj
        status = ret == "int" and not (getter and not has_err)
        if has_err and ret != "int":
            self.fail(where, f"returns {ret}; a call taking ctr_error ** returns int")
        if status and not has_err and not (obj == "error" and errs):
            self.fail(where, "returns a status but does not end with `ctr_error **err`")
        # order: outputs, then the handle, then inputs
        if has_err or (obj == "error" and errs):
            body = [(t, n) for i, (t, n) in enumerate(ps) if i not in errs]
            seen_input = None
            for t, n in body:
                if self.is_output(t, n):
                    if seen_input:
                        self.fail(where, f"output `{n}` comes after input `{seen_input}`")
                elif seen_input is None:
                    seen_input = n
            first_in = next(((t, n) for t, n in body if not self.is_output(t, n)), None)
            if handles and first_in and not self.is_handle(first_in[0]):
                self.fail(where, f"first input `{first_in[1]}` is not the object's handle")
        # free functions
        base = rel in BASE_HEADERS and obj is None
        verb = name[len("ctr_" + obj) + 1:] if obj else None
        if verb in OPTS_VERBS and ptype(OPTS[0]) not in types:
            self.fail(where, f"`{verb}` takes options in containerd: it needs `opts, n_opts`")
        if verb and (verb.startswith("is_") or verb.startswith("has_")) and has_err and \
           (not ps or ptype(types[0]) != ptype("bool *")):
            self.fail(where, f"`{verb}` answers yes or no: its first parameter is `bool *out`")
        if verb == "list_free":
            if len(ps) != 2 or not types[0].endswith("**") or types[1] != "size_t" or ps[1][1] != "n":
                self.fail(where, "list_free does not take (T **v, size_t n)")
        elif verb == "free":
            if len(ps) != 1 or not own_handle or types[0].startswith("const"):
                self.fail(where, "free does not take exactly its own handle")
        # names
        if base:
            return
        if obj is None:
            return self.fail(where, "object part does not name a public type or service")
        if verb in VERBS:
            return
        if getter and own_handle and ps and self.is_handle(ps[0][0]) or \
           getter and own_handle and has_err:
            return
        self.fail(where, f"`{verb}` is neither one of containerd's verbs nor a getter "
                  f"(one const ctr_{obj} handle, no options)")


def main():
    args = sys.argv[1:]
    self_test = bool(args) and args[0] == "--self-test"
    if self_test:
        args = args[1:]
    inc = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "include")
    root = os.path.join(inc, "ctr")
    api = Api()
    headers = []
    for sub in ("", "sys"):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".h"):
                headers.append((os.path.join(sub, f) if sub else f, os.path.join(d, f)))
    if not headers:
        print(f"no headers under {root}", file=sys.stderr)
        return 1
    for rel, path in headers:
        api.read(rel, path)
    names = {}
    for rel, ret, name, ps in api.funcs:
        if name in names:
            api.fail(name, f"declared in {names[name]} and {rel}")
        names[name] = rel
        api.check(rel, ret, name, ps)
    for rel, name, ps in api.callbacks:
        api.check_callback(rel, name, ps)
    if self_test:
        # Every function of the fixture but ctr_widget_create, and every
        # callback, breaks one rule: each must be reported, the good one not.
        reported = lambda n: any(e.startswith(n + ":") or f"callback {n}:" in e for e in api.errors)
        want = [n for _, _, n, _ in api.funcs if n != "ctr_widget_create"] + [n for _, n, _ in api.callbacks]
        missed = [n for n in want if not reported(n)]
        if reported("ctr_widget_create"):
            missed.append("ctr_widget_create (reported, but it has the shape)")
        for n in missed:
            print(f"self-test: {n} not caught", file=sys.stderr)
        if not missed:
            print(f"self-test: all {len(want)} broken declarations caught")
        return 1 if missed or not want else 0
    if api.errors:
        for e in api.errors:
            print(e, file=sys.stderr)
        print(f"{len(api.errors)} shape errors in {len(api.funcs)} functions", file=sys.stderr)
        return 1
    print(f"{len(api.funcs)} functions in {len(headers)} headers have the call shape")
    return 0


if __name__ == "__main__":
    sys.exit(main())
