/* containerd's default seccomp profile (contrib/seccomp DefaultProfile):
 * an allowlist with every other syscall failing with EPERM, extended by
 * architecture, kernel version and the process's bounding capabilities.
 * The architecture list of the build's own architecture comes from
 * libseccomp when the library is built with it. */
#include "spec-internal.h"

#include <ctype.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "macro.h"

#if HAVE_SECCOMP
#include <seccomp.h>
#endif

/* Allowed for every container. Data: the names containerd lists. */
static const char *const allow_always[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat",
	"capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
	"clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
	"clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
	"close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
	"execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
	"fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
	"fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
	"fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
	"fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
	"futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents",
	"getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
	"getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
	"getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
	"getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
	"getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
	"getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
	"inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
	"io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
	"ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
	"lgetxattr", "link", "linkat", "listen", "listmount", "listxattr", "listxattrat",
	"llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lsm_get_self_attr",
	"lsm_list_modules", "lsm_set_self_attr", "lstat", "lstat64", "madvise",
	"membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
	"mknod", "mknodat", "mlock", "mlock2", "mlockall", "map_shadow_stack", "mmap",
	"mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
	"mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
	"_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
	"pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
	"poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
	"prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
	"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
	"recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
	"removexattr", "removexattrat", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
	"sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32",
	"setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
	"setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
	"setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
	"set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address",
	"setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt",
	"shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
	"sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
	"statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
	"timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
	"truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
	"uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
};

/* Allowed on kernels >= 4.8, whose seccomp can no longer be bypassed with
 * ptrace. */
static const char *const allow_ptrace_48[] = {"process_vm_readv", "process_vm_writev", "ptrace", NULL};

struct arch_extra {
	const char *goarch;
	/* libseccomp's names of the architecture family, in containerd's order. */
	const char *family[4];
	const char *const *names;
};

static const char *const extra_ppc64le[] = {"sync_file_range2", "swapcontext", NULL};
static const char *const extra_arm[] = {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
					"breakpoint", "cacheflush", "set_tls", NULL};
static const char *const extra_amd64[] = {"arch_prctl", "modify_ldt", NULL};
static const char *const extra_386[] = {"modify_ldt", NULL};
static const char *const extra_s390[] = {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr", NULL};
static const char *const extra_riscv64[] = {"riscv_flush_icache", "riscv_hwprobe", NULL};

/* Go architecture names, as containerd switches on runtime.GOARCH. */
static const struct arch_extra arch_table[] = {
	{"amd64", {"x86_64", "x86", "x32"}, extra_amd64},
	{"arm64", {"arm", "aarch64"}, extra_arm},
	{"arm", {NULL}, extra_arm},
	{"386", {NULL}, extra_386},
	{"ppc64le", {NULL}, extra_ppc64le},
	{"mips64", {"mips", "mips64", "mips64n32"}, NULL},
	{"mips64n32", {"mips", "mips64", "mips64n32"}, NULL},
	{"mipsel64", {"mipsel", "mipsel64", "mipsel64n32"}, NULL},
	{"mipsel64n32", {"mipsel", "mipsel64", "mipsel64n32"}, NULL},
	{"s390x", {"s390", "s390x"}, extra_s390},
	{"s390", {NULL}, extra_s390},
	{"riscv64", {"riscv64"}, extra_riscv64},
	{"loong64", {"loongarch64"}, NULL},
};

/* The OCI names of an architecture family ("x86_64" -> "SCMP_ARCH_X86_64").
 * For the build's own architecture the family is the one holding
 * libseccomp's native architecture, and only the names this libseccomp
 * knows are listed; without libseccomp, or for another architecture, it is
 * the table's. NULL when there is none (as containerd on that GOARCH). */
static json_t *arch_names(const struct arch_extra *arch, bool native)
{
	const char *const *family = arch ? arch->family : NULL;
#if HAVE_SECCOMP
	if (native) {
		family = NULL;
		uint32_t tok = seccomp_arch_native();
		for (size_t i = 0; !family && i < CTR_ARRAY_SIZE(arch_table); i++)
			for (size_t k = 0; arch_table[i].family[k] && k < 4; k++)
				if (seccomp_arch_resolve_name(arch_table[i].family[k]) == tok)
					family = arch_table[i].family;
	}
#endif
	if (!family || !family[0])
		return NULL;
	json_t *a = json_array();
	for (size_t k = 0; a && k < 4 && family[k]; k++) {
#if HAVE_SECCOMP
		if (native && !seccomp_arch_resolve_name(family[k]))
			continue;
#endif
		char up[32] = "SCMP_ARCH_";
		size_t n = strlen(up);
		for (const char *c = family[k]; *c && n + 1 < sizeof(up); c++)
			up[n++] = (char)toupper((unsigned char)*c);
		up[n] = '\0';
		if (json_array_append_new(a, json_string(up)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Syscalls a bounding capability brings back. */
static const struct {
	const char *cap;
	const char *const names[24];
} cap_table[] = {
	{"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
	{"CAP_SYS_ADMIN", {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
			   "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
			   "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
			   "setns", "syslog", "umount", "umount2", "unshare"}},
	{"CAP_SYS_BOOT", {"reboot"}},
	{"CAP_SYS_CHROOT", {"chroot"}},
	{"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
	{"CAP_SYS_PACCT", {"acct"}},
	{"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
			    "process_vm_writev", "ptrace"}},
	{"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
	{"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
	{"CAP_SYS_TTY_CONFIG", {"vhangup"}},
	{"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
	{"CAP_SYSLOG", {"syslog"}},
	{"CAP_BPF", {"bpf"}},
	{"CAP_PERFMON", {"perf_event_open"}},
};

const char *ctr_oci_goarch(void)
{
#if defined(__x86_64__) && !defined(__ILP32__)
	return "amd64";
#elif defined(__i386__)
	return "386";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__powerpc64__)
	return "ppc64";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__loongarch64)
	return "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "mips64le";
#elif defined(__mips64)
	return "mips64";
#else
	return "unknown";
#endif
}

static json_t *names_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static size_t strv_len(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* Appends {names, action: allow}; returns -1 on allocation failure. */
static int add_allow(json_t *calls, const char *const *names, size_t n)
{
	return json_array_append_new(calls, json_pack("{s:o, s:s}", "names", names_json(names, n),
						      "action", "SCMP_ACT_ALLOW"));
}

/* Appends an allow rule for one syscall with one argument comparison. */
static int add_allow_arg(json_t *calls, const char *name, unsigned index, uint64_t value,
			 const char *op)
{
	return json_array_append_new(calls, json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}",
						      "names", name, "action", "SCMP_ACT_ALLOW",
						      "args", "index", (int)index, "value",
						      (json_int_t)value, "op", op));
}

json_t *ctr_oci_seccomp_profile(const json_t *bounding, const char *goarch, int kernel_major,
				int kernel_minor)
{
	const struct arch_extra *arch = NULL;
	for (size_t i = 0; i < CTR_ARRAY_SIZE(arch_table); i++)
		if (goarch && !strcmp(arch_table[i].goarch, goarch))
			arch = &arch_table[i];
	json_t *calls = json_array();
	json_t *prof = json_pack("{s:s, s:i}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", 1);
	if (!calls || !prof)
		goto fail;
	int bad = 0;
	json_t *arches = arch_names(arch, goarch && !strcmp(goarch, ctr_oci_goarch()));
	if (arches)
		bad |= json_object_set_new(prof, "architectures", arches);
	bad |= add_allow(calls, allow_always, CTR_ARRAY_SIZE(allow_always));
	/* socket(2) for every family but AF_ALG and AF_VSOCK, as three single
	 * comparisons: runc ORs repeated conditions on one argument. */
	bad |= add_allow_arg(calls, "socket", 0, AF_ALG, "SCMP_CMP_LT");
	bad |= add_allow_arg(calls, "socket", 0, AF_ALG + 1, "SCMP_CMP_EQ");
	bad |= add_allow_arg(calls, "socket", 0, AF_VSOCK, "SCMP_CMP_GT");
	static const uint64_t personas[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};
	for (size_t i = 0; i < CTR_ARRAY_SIZE(personas); i++)
		bad |= add_allow_arg(calls, "personality", 0, personas[i], "SCMP_CMP_EQ");
	if (kernel_major > 4 || (kernel_major == 4 && kernel_minor >= 8))
		bad |= add_allow(calls, allow_ptrace_48, strv_len(allow_ptrace_48));
	if (arch && arch->names)
		bad |= add_allow(calls, arch->names, strv_len(arch->names));
	bool admin = false;
	for (size_t i = 0; i < json_array_size(bounding); i++) {
		const char *c = json_string_value(json_array_get(bounding, i));
		for (size_t k = 0; c && k < CTR_ARRAY_SIZE(cap_table); k++) {
			if (strcmp(c, cap_table[k].cap))
				continue;
			if (!strcmp(c, "CAP_SYS_ADMIN"))
				admin = true;
			bad |= add_allow(calls, cap_table[k].names, CTR_ARRAY_SIZE(cap_table[k].names));
		}
	}
	if (!admin) {
		/* clone without namespace flags; on s390 the flags are the second argument. */
		const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
					  CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
		bool s390 = goarch && (!strcmp(goarch, "s390") || !strcmp(goarch, "s390x"));
		bad |= json_array_append_new(calls, json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}",
			"names", "clone", "action", "SCMP_ACT_ALLOW", "args", "index", s390 ? 1 : 0,
			"value", (json_int_t)ns_flags, "op", "SCMP_CMP_MASKED_EQ"));
		/* ENOSYS rather than EPERM so libc falls back to clone(2). */
		bad |= json_array_append_new(calls, json_pack("{s:[s], s:s, s:i}", "names", "clone3",
			"action", "SCMP_ACT_ERRNO", "errnoRet", ENOSYS));
	}
	if (bad)
		goto fail;
	if (json_object_set_new(prof, "syscalls", calls) < 0) {
		json_decref(prof); /* calls was released by set_new */
		return NULL;
	}
	return prof;
fail:
	json_decref(calls);
	json_decref(prof);
	return NULL;
}
