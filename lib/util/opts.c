#include "opts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ident.h"

ctr_opt *ctr_opt_make(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn apply,
		      void *userdata, void (*free_fn)(void *))
{
	ctr_opt *o = calloc(1, sizeof(*o));
	if (!o) {
		if (free_fn)
			free_fn(userdata);
		return NULL;
	}
	o->kind = kind;
	o->name = name;
	o->apply = apply;
	o->userdata = userdata;
	o->free_fn = free_fn;
	return o;
}

ctr_opt *ctr_opt_make_str(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn apply,
			  const char *s)
{
	char *copy = NULL;
	if (s && !(copy = strdup(s)))
		return NULL;
	return ctr_opt_make(kind, name, apply, copy, free);
}

static int apply_flag(void *t, void *ud, ctr_error **err)
{
	(void)err;
	*(bool *)((char *)t + (uintptr_t)ud) = true;
	return 0;
}

ctr_opt *ctr_opt_make_flag(ctr_opt_kind kind, const char *name, size_t offset)
{
	return ctr_opt_make(kind, name, apply_flag, (void *)(uintptr_t)offset, NULL);
}

CTR_EXPORT ctr_opt *ctr_opt_new(ctr_opt_kind kind, ctr_opt_apply_fn apply, void *userdata,
				void (*free_fn)(void *))
{
	if (!apply)
		return NULL;
	return ctr_opt_make(kind, "option-callback", apply, userdata, free_fn);
}

CTR_EXPORT ctr_opt_kind ctr_opt_kind_of(const ctr_opt *o) { return o ? o->kind : 0; }
CTR_EXPORT const char *ctr_opt_name(const ctr_opt *o) { return o ? o->name : "(null)"; }

CTR_EXPORT void ctr_opt_free(ctr_opt *o)
{
	if (!o)
		return;
	if (o->free_fn)
		o->free_fn(o->userdata);
	free(o);
}

static const char *kind_name(ctr_opt_kind k)
{
	static const char *const names[] = {
		[CTR_OPT_CLIENT] = "client", [CTR_OPT_LEASE] = "lease",
		[CTR_OPT_CONTENT] = "content", [CTR_OPT_GC] = "gc",
		[CTR_OPT_SUBSCRIBE] = "subscribe", [CTR_OPT_CALL] = "call",
		[CTR_OPT_PULL] = "pull", [CTR_OPT_PUSH] = "push",
		[CTR_OPT_CONTAINER] = "container", [CTR_OPT_SPEC] = "spec",
		[CTR_OPT_TASK] = "task", [CTR_OPT_SNAPSHOT] = "snapshot",
		[CTR_OPT_REMOTE] = "remote", [CTR_OPT_IMPORT] = "import",
		[CTR_OPT_EXPORT] = "export", [CTR_OPT_KILL] = "kill",
		[CTR_OPT_PROCESS_DELETE] = "process delete", [CTR_OPT_TASK_UPDATE] = "task update",
		[CTR_OPT_CLOSE_IO] = "close io", [CTR_OPT_IMAGE] = "image",
		[CTR_OPT_NAMESPACE] = "namespace", [CTR_OPT_CONTENT_COMMIT] = "content commit",
		[CTR_OPT_INTROSPECT] = "introspect", [CTR_OPT_CHECKPOINT] = "checkpoint",
		[CTR_OPT_RESTORE] = "restore", [CTR_OPT_INSTALL] = "install",
		[CTR_OPT_UNPACK] = "unpack",
		[CTR_OPT_CHECK] = "check",
	};
	if ((unsigned)k < sizeof(names) / sizeof(names[0]) && names[k])
		return names[k];
	return "unknown";
}

int ctr_opts_apply(ctr_opt_kind kind, void *target, struct ctr_call *call,
		   const ctr_opt *const *opts, size_t n_opts, const char *what,
		   ctr_error **err)
{
	if (n_opts && !opts)
		return ctr_err(err, CTR_EINVAL, 0, "%s: options array is NULL with %zu options", what, n_opts);
	for (size_t i = 0; i < n_opts; i++) {
		const ctr_opt *o = opts[i];
		if (!o)
			return ctr_err(err, CTR_EINVAL, 0,
				       "%s: option %zu is NULL (a constructor failed)", what, i);
		void *t;
		if (o->kind == kind)
			t = target;
		else if (o->kind == CTR_OPT_CALL && call)
			t = call;
		else
			return ctr_err(err, CTR_EINVAL, 0,
				       "%s: option %zu (%s) is a %s option, not a %s option",
				       what, i, o->name, kind_name(o->kind), kind_name(kind));
		int r = o->apply(t, o->userdata, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "%s: option %s", what, o->name);
	}
	return 0;
}

int ctr_opts_apply_multi(const struct ctr_opt_target *targets, size_t n_targets, struct ctr_call *call,
			 const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err)
{
	if (n_opts && !opts)
		return ctr_err(err, CTR_EINVAL, 0, "%s: options array is NULL with %zu options", what, n_opts);
	for (size_t i = 0; i < n_opts; i++) {
		const ctr_opt *o = opts[i];
		if (!o)
			return ctr_err(err, CTR_EINVAL, 0,
				       "%s: option %zu is NULL (a constructor failed)", what, i);
		void *t = NULL;
		bool found = false;
		for (size_t k = 0; k < n_targets && !found; k++)
			if (targets[k].kind == o->kind) {
				t = targets[k].target;
				found = true;
			}
		if (!found && o->kind == CTR_OPT_CALL && call) {
			t = call;
			found = true;
		}
		if (!found)
			return ctr_err(err, CTR_EINVAL, 0, "%s: option %zu (%s) is a %s option, not a %s option",
				       what, i, o->name, kind_name(o->kind),
				       n_targets ? kind_name(targets[0].kind) : "call");
		int r = o->apply(t, o->userdata, err);
		if (r < 0)
			return ctr_err_prefix(err, r, "%s: option %s", what, o->name);
	}
	return 0;
}

static int apply_call_ns(void *target, void *userdata, ctr_error **err)
{
	struct ctr_call *call = target;
	int r = ctr_ident_validate(userdata, "namespace", err);
	if (r < 0)
		return r;
	call->ns = userdata;
	return 0;
}

static int apply_call_lease(void *target, void *userdata, ctr_error **err)
{
	struct ctr_call *call = target;
	int r = ctr_ident_validate(userdata, "lease", err);
	if (r < 0)
		return r;
	call->lease = userdata;
	return 0;
}

CTR_EXPORT ctr_opt *ctr_with_call_namespace(const char *ns)
{
	if (!ns)
		return NULL;
	return ctr_opt_make_str(CTR_OPT_CALL, "ctr_with_call_namespace", apply_call_ns, ns);
}

CTR_EXPORT ctr_opt *ctr_with_lease(const char *id)
{
	if (!id)
		return NULL;
	return ctr_opt_make_str(CTR_OPT_CALL, "ctr_with_lease", apply_call_lease, id);
}
