/* Internal view of option objects. */
#ifndef CTR_LIB_OPTS_H
#define CTR_LIB_OPTS_H

#include <ctr/opts.h>
#include <stddef.h>

struct ctr_opt {
	ctr_opt_kind kind;
	const char *name; /* static string */
	ctr_opt_apply_fn apply;
	void *userdata;
	void (*free_fn)(void *);
};

/* Per-call settings that CTR_OPT_CALL options fill. Strings are borrowed
 * from the options, which outlive the call. */
struct ctr_call {
	const char *ns;    /* NULL: the client's namespace */
	const char *lease; /* NULL: none */
};

/* Makes a library option; takes ownership of userdata (freed with free_fn). */
ctr_opt *ctr_opt_make(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn apply,
		      void *userdata, void (*free_fn)(void *));
/* Makes an option whose userdata is a copy of the string s (NULL s -> NULL). */
ctr_opt *ctr_opt_make_str(ctr_opt_kind kind, const char *name, ctr_opt_apply_fn apply,
			  const char *s);
/* Makes an option with no argument that sets the bool at `offset` in its
 * target (offsetof(struct, field)) to true. */
ctr_opt *ctr_opt_make_flag(ctr_opt_kind kind, const char *name, size_t offset);

/* Applies every option in order. Options of `kind` get `target`; CTR_OPT_CALL
 * options get `call` (when call is NULL they are refused). Any other kind, or
 * a NULL entry, fails with CTR_EINVAL naming the option and `what` (the call). */
int ctr_opts_apply(ctr_opt_kind kind, void *target, struct ctr_call *call,
		   const ctr_opt *const *opts, size_t n_opts, const char *what,
		   ctr_error **err);

/* Like ctr_opts_apply for calls that take options of several kinds: each
 * option goes to the target of its kind (CTR_OPT_CALL ones to `call`). */
struct ctr_opt_target {
	ctr_opt_kind kind;
	void *target;
};
int ctr_opts_apply_multi(const struct ctr_opt_target *targets, size_t n_targets, struct ctr_call *call,
			 const ctr_opt *const *opts, size_t n_opts, const char *what, ctr_error **err);

#endif
