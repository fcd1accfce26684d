/* lctr: shared declarations for the command groups. */
#ifndef LCTR_H
#define LCTR_H

#include <ctr/ctr.h>
#include <stdbool.h>

struct lctr {
	const char *root;  /* NULL: library default */
	const char *state; /* NULL: library default */
	const char *ns;
	bool debug;
	ctr_client *client; /* opened on first use */
};

/* A command: argv[0] is the command's own name. Returns the exit status. */
typedef int (*lctr_cmd_fn)(struct lctr *g, int argc, char **argv);

/* A flag of a command: lctr_getopt returns val for --name and for -shortc. */
struct lctr_flag {
	char shortc; /* 0: long only */
	const char *name;
	int has_arg; /* no_argument or required_argument */
	int val;
	const char *arg; /* the value's name in the help; NULL without a value */
	const char *help;
};

struct lctr_group;
struct lctr_cmd {
	const char *name;
	const char *aliases; /* space separated, may be NULL */
	lctr_cmd_fn fn;
	const char *help;
	/* The positional arguments ("ID [K=V]..."); the counts are checked
	 * from it. NULL for a group, which dispatches on its own. */
	const char *usage;
	/* Its flags (name NULL ends a table): every one is checked before the
	 * command runs, and the command reads them with lctr_getopt. */
	const struct lctr_flag *flags, *more_flags;
	/* After this many positional arguments comes a command line, passed
	 * on as it is (0: flags may follow any argument). */
	int stop;
	/* A group: its sub-commands (what completion offers). */
	const struct lctr_group *group;
	/* With the flag whose val is alt_flag, the arguments are alt_usage
	 * (run --config F ID) and no command line follows. */
	int alt_flag;
	const char *alt_usage;
};

/* A group's table, the one it dispatches on, and its own flags. */
struct lctr_group {
	const struct lctr_cmd *cmds;
	size_t n;
	const struct lctr_flag *flags;
};
extern const struct lctr_group lctr_namespaces_group, lctr_leases_group, lctr_content_group, lctr_images_group,
	lctr_snapshots_group, lctr_oci_group, lctr_containers_group, lctr_tasks_group, lctr_plugins_group;
/* lctr.c: the top-level commands, and lctr_dispatch's alias matching. */
extern const struct lctr_cmd lctr_top_cmds[];
extern const size_t lctr_n_top_cmds;
bool lctr_cmd_matches(const struct lctr_cmd *c, const char *name);
/* Takes argv[i] if it is a global flag (into g): the words it used (1 or
 * 2), 0 if it is not one, or -1 after printing a usage error (what names
 * the command, NULL for none). */
int lctr_take_global(struct lctr *g, const char *what, int argc, char **argv, int i);

/* The next flag of the running command (its tables), or -1 at the end. The
 * flags were checked before the command was called: no unknown ones. */
int lctr_getopt(int argc, char **argv);

/* Opens the client from the global flags; prints the error and returns NULL. */
ctr_client *lctr_client(struct lctr *g);

/* Prints "lctr: <what>: <why>" on stderr and returns 1. Frees err. */
int lctr_fail(const char *what, ctr_error *err);
/* The same with what the user can do about it: "... (<hint>)". */
int lctr_fail_hint(const char *what, ctr_error *err, const char *hint);
/* Prints "lctr: <msg>" and returns 1 (for usage errors: 2 is for flags). */
int lctr_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The flags every ls takes: -q/--quiet. Returns the index of the first
 * filter argument. */
extern const struct lctr_flag lctr_ls_flagdefs[];
int lctr_ls_flags(int argc, char **argv, bool *quiet);

/* Runs the sub-command of a group: argv[1] names it. Global flags and
 * --help/-h are taken before and after it; a command's flags and argument
 * counts are checked before it runs (usage errors exit 2). */
int lctr_dispatch(struct lctr *g, const char *group, const struct lctr_cmd *cmds, size_t n,
		  int argc, char **argv);
/* The same, for a group with flags of its own: on_flag gets each one
 * (val, value) and returns 0, or an exit status. */
int lctr_dispatch_flags(struct lctr *g, const char *group, const struct lctr_flag *gflags,
			int (*on_flag)(int val, const char *arg), const struct lctr_cmd *cmds, size_t n,
			int argc, char **argv);

/* Builds a NULL-terminated option array that frees itself; add NULL-safe. */
struct lctr_opts {
	ctr_opt *v[64];
	size_t n;
	bool failed;
};
void lctr_opts_add(struct lctr_opts *o, ctr_opt *opt);
void lctr_opts_free(struct lctr_opts *o);
#define LCTR_OPTS(o) ((const ctr_opt *const *)(o)->v), (o)->n

/* format.c */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
const char *lctr_human_size(double size, char *buf, size_t len);
const char *lctr_human_age(int64_t since_ns, char *buf, size_t len);
/* "k=v,k=v" or "-" when there are none. */
void lctr_print_labels(FILE *f, const char *const *labels);
/* True for "sha256:" and 64 lower-case hex digits, nothing after. */
bool lctr_is_sha256_digest(const char *d);
/* Label arguments as ctr reads them: "k=v", or "k" alone for "k=" (an
 * empty value, or a removal where the call removes "k="). A
 * NULL-terminated copy to free with lctr_strv_free; NULL when out of memory. */
char **lctr_label_args(char *const *args, int n);
void lctr_strv_free(char **v);

struct lctr_table {
	size_t cols, n, cap;
	char **cells;
};
void lctr_table_init(struct lctr_table *t, size_t cols);
void lctr_table_add(struct lctr_table *t, const char *cell);
/* Prints and frees the table. */
void lctr_table_print(struct lctr_table *t, FILE *f);
/* Prints text ("cell\tcell\t...\n" lines) aligned as Go's text/tabwriter
 * with these settings does, so output matches ctr's byte for byte. */
void lctr_tabwrite(FILE *f, const char *text, size_t minwidth, size_t padding);

/* progress.c: the display of pull, push, import and export (on stdout). */
enum lctr_progress_kind { LCTR_PROGRESS_PULL, LCTR_PROGRESS_PUSH, LCTR_PROGRESS_IMPORT, LCTR_PROGRESS_EXPORT };
struct lctr_prog_item {
	char digest[80];
	int64_t done, total;
	ctr_progress_state state;
	struct timespec first; /* when the blob was first reported */
};
struct lctr_progress {
	bool tty; /* redrawn in place; else a plain line per change of state */
	enum lctr_progress_kind kind;
	struct lctr_prog_item *v;
	size_t n;
	int drawn; /* lines drawn last time (tty) */
	struct timespec start, last;
};
void lctr_progress_start(struct lctr_progress *p, enum lctr_progress_kind kind);
/* The ctr_progress_fn; ud is the struct lctr_progress. */
int lctr_on_progress(const char *digest, const char *media_type, int64_t done, int64_t total,
		     ctr_progress_state state, void *ud);
void lctr_progress_redraw(struct lctr_progress *p, bool final);
/* Redraws a last time, prints "done: <seconds>s" and frees. */
void lctr_progress_end(struct lctr_progress *p);

/* images sub-commands in cmd-images-extra.c, and their flags */
extern const struct lctr_flag lctr_images_mount_flags[], lctr_images_unmount_flags[], lctr_images_usage_flags[];
extern const struct lctr_flag lctr_images_import_flags[], lctr_images_export_flags[];
extern const struct lctr_flag lctr_images_label_flags[], lctr_images_check_flags[];
/* pull's and push's flags, and pull's own (content fetch has pull's). */
extern const struct lctr_flag lctr_remote_flags[], lctr_pull_flags[];
int lctr_images_mount(struct lctr *g, int argc, char **argv);
int lctr_cmd_install(struct lctr *g, int argc, char **argv);
extern const struct lctr_flag lctr_install_flags[];
int lctr_images_unmount(struct lctr *g, int argc, char **argv);
int lctr_images_check(struct lctr *g, int argc, char **argv);
int lctr_images_usage(struct lctr *g, int argc, char **argv);
int lctr_images_label(struct lctr *g, int argc, char **argv);
/* cmd-run.c: ctr's container flags, shared by run and containers create. */
enum {
	LCTR_O_ENV = 0x100, LCTR_O_LABEL, LCTR_O_MOUNT, LCTR_O_NET_HOST, LCTR_O_USER, LCTR_O_CWD,
	LCTR_O_READ_ONLY, LCTR_O_PRIVILEGED, LCTR_O_MEMORY, LCTR_O_CPUS, LCTR_O_SNAPSHOTTER,
	LCTR_O_RUNTIME, LCTR_O_SECCOMP, LCTR_O_ROOTFS, LCTR_O_HOSTNAME, LCTR_O_CAP_ADD,
	LCTR_O_CAP_DROP, LCTR_O_TTY, LCTR_O_LOG_URI, LCTR_O_NULL_IO, LCTR_O_PID_FILE, LCTR_O_RM,
	LCTR_O_DETACH, LCTR_O_ENV_FILE, LCTR_O_CPU_QUOTA, LCTR_O_CPU_PERIOD, LCTR_O_CGROUP,
	LCTR_O_RUNC_BINARY, LCTR_O_NEW_PRIVS,
	LCTR_O_DEVICE, LCTR_O_SECCOMP_PROFILE, LCTR_O_APPARMOR_PROFILE, LCTR_O_WITH_NS, LCTR_O_PLATFORM,
	LCTR_O_UIDMAP, LCTR_O_GIDMAP, LCTR_O_REMAP_LABELS,
	LCTR_O_CONFIG, LCTR_O_FIFO_DIR, LCTR_O_NO_PIVOT, LCTR_O_SYSTEMD_CGROUP,
};
struct lctr_cflags {
	const char **env, **labels, **mounts, **caps_add, **caps_drop, **with_ns; /* NULL-terminated */
	size_t n_env, n_labels, n_mounts, n_caps_add, n_caps_drop, n_with_ns;
	const char **devices; /* NULL-terminated */
	size_t n_devices;
	const char *seccomp_profile, *apparmor_profile;
	const char *platform;
	const char *user, *cwd, *snapshotter, *runtime, *hostname, *log_uri, *pid_file, *env_file, *cgroup;
	const char *runc_binary; /* runc's BinaryName: the runtime when it is runc's */
	const char *config;	 /* --config: the spec file; no image, ID is the only argument */
	const char *fifo_dir;	 /* where a detached task's fifos go (NULL: lctr's corner of the state) */
	bool net_host, read_only, privileged, seccomp, rootfs, tty, null_io, new_privs;
	bool no_pivot, systemd_cgroup; /* runc's options, for the task run creates */
	bool has_cfs;		/* --cpu-quota or --cpu-period */
	bool throwaway;		/* run --rm in the foreground: the rootfs goes after the task */
	int64_t cpu_quota;	/* -1: none */
	uint64_t cpu_period;	/* 0: the kernel's */
	uint64_t memory_limit;
	double cpus;
	/* --uidmap, --gidmap: container-id:host-id:length; --remap-labels */
	bool has_uidmap, has_gidmap, remap_labels;
	uint32_t uidmap[3], gidmap[3];
};
#include <getopt.h>
/* The container flags (run, containers create) and run's own. */
extern const struct lctr_flag lctr_cflags_flags[];
extern const struct lctr_flag lctr_run_flags[];
/* 1 when c was a container flag, 0 when not, -1 on a failure and -2 on a
 * bad value (a usage error, exit 2); errors are printed. */
int lctr_cflags_opt(struct lctr_cflags *f, int c, const char *arg);
void lctr_cflags_free(struct lctr_cflags *f);
/* Creates container id from an image ref (or a host directory with
 * --rootfs); args override the command. Prints errors; returns 0 or 1. */
int lctr_container_create(ctr_container **out, struct lctr *g, const struct lctr_cflags *f,
			  const char *ref, const char *id, char **args, const char *what);
int lctr_task_run(ctr_container *k, struct lctr *g, const struct lctr_cflags *f, bool detach,
		  const char *what);
int lctr_process_run(ctr_process *p, bool tty, bool detach, const char *what);
void lctr_io_opts(struct lctr_opts *o, bool tty, bool null_io, const char *log_uri, bool detach,
		  const char *fifo_dir);
/* Checks what the container flags say together (--runc-binary with
 * --runtime, --runc-systemd-cgroup with --cgroup): prints a usage error
 * and returns 2, or 0. */
int lctr_cflags_check(const struct lctr_cflags *f, const char *what);
bool lctr_spec_has_terminal(const char *spec);
/* Forwards signals (or, with tty, SIGWINCH as resizes) to k's task from a
 * thread, until the process exits. */
int lctr_forward(ctr_container *k, bool tty);
/* cmd-attach.c: <state>/lctr-io/<ns>/<id>, the fifos of a detached task
 * that tasks attach opens. _make creates it (mode 0700) and returns its
 * path (free()); with fifo_dir (--fifo-dir) the fifos go to a new
 * directory <fifo_dir>/<id>-XXXXXX and <state>/lctr-io/<ns>/<id> is a
 * symlink to it. Prints errors and returns 1. _remove ignores errors. */
int lctr_io_dir_make(char **out, ctr_client *cl, const char *id, const char *fifo_dir, const char *what);
char *lctr_io_dir(ctr_client *cl, const char *id);
void lctr_io_dir_remove(ctr_client *cl, const char *id);
int lctr_tasks_attach(struct lctr *g, int argc, char **argv);
int lctr_tty_raw(void);
void lctr_tty_reset(void);

/* Command groups (cmd-*.c). */
int lctr_cmd_version(struct lctr *g, int argc, char **argv);
int lctr_cmd_info(struct lctr *g, int argc, char **argv);
int lctr_cmd_plugins(struct lctr *g, int argc, char **argv);
int lctr_cmd_content(struct lctr *g, int argc, char **argv);
int lctr_cmd_completion(struct lctr *g, int argc, char **argv);
int lctr_cmd_complete(struct lctr *g, int argc, char **argv);
int lctr_cmd_snapshots(struct lctr *g, int argc, char **argv);
int lctr_cmd_namespaces(struct lctr *g, int argc, char **argv);
int lctr_cmd_leases(struct lctr *g, int argc, char **argv);
int lctr_cmd_gc(struct lctr *g, int argc, char **argv);
int lctr_cmd_oci(struct lctr *g, int argc, char **argv);
int lctr_cmd_events(struct lctr *g, int argc, char **argv);
/* cmd-images-io.c: `images import` and `images export`. */
int lctr_images_import(struct lctr *g, int argc, char **argv);
int lctr_images_export(struct lctr *g, int argc, char **argv);
int lctr_cmd_run(struct lctr *g, int argc, char **argv);
int lctr_cmd_containers(struct lctr *g, int argc, char **argv);
int lctr_cmd_tasks(struct lctr *g, int argc, char **argv);
/* cmd-checkpoint.c */
int lctr_containers_checkpoint(struct lctr *g, int argc, char **argv);
int lctr_containers_restore(struct lctr *g, int argc, char **argv);
int lctr_tasks_checkpoint(struct lctr *g, int argc, char **argv);
extern const struct lctr_flag lctr_containers_checkpoint_flags[], lctr_containers_restore_flags[],
	lctr_tasks_checkpoint_flags[];
int lctr_cmd_images(struct lctr *g, int argc, char **argv);
/* cmd-content.c: writes the blob digest to out; prints errors and returns
 * 0 or 1. */
int lctr_content_copy(ctr_client *c, const char *digest, FILE *out, const char *what);
/* cmd-content-edit.c */
extern const struct lctr_flag lctr_content_edit_flags[];
int lctr_content_edit(struct lctr *g, int argc, char **argv);
/* lctr content fetch: pull's flags, no image unpack (cmd-images.c). */
int lctr_content_fetch(struct lctr *g, int argc, char **argv);
/* content fetch-object and push-object: registry flags (cmd-images.c). */
int lctr_content_fetch_object(struct lctr *g, int argc, char **argv);
int lctr_content_push_object(struct lctr *g, int argc, char **argv);

#endif
