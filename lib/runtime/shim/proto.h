/* What libctr and its shim (libctr-shim) agree on: file names inside a
 * process directory and the shape of the messages between them. Plain C,
 * no libctr headers: the shim links libc only.
 *
 * A container directory <state>/tasks/<ns>/<id>/ (mode 0700) holds
 *   config.json, rootfs/    the bundle (the caller mounts the rootfs)
 *   runtime                 path or name of the OCI runtime (runc, crun)
 *   runc.opts               runc's global options given at create, one a
 *                           line: "root <dir>", "criu <path>",
 *                           "systemd-cgroup" (absent: none)
 *   runc/                   the runtime's --root (its state stays with ours)
 *   init/                   the init process's directory
 *   exec/<exec-id>/         one directory per exec'd process
 * and each process directory holds
 *   shim.pid     "<pid> <starttime>\n" of the shim (starttime: field 22 of
 *                /proc/<pid>/stat, so a reused pid is never mistaken for it)
 *   pid          the process's pid, written by the runtime (--pid-file)
 *   exit         "<status> <exited_at_ns>\n", renamed into place when the
 *                process is reaped; status is the exit code or 128+signal
 *   control      fifo the shim reads one-line requests from (CTR_SHIM_CMD_*)
 *   console.sock unix socket on which the runtime hands over a pty master
 *   runc.log     the runtime's log (JSON lines); errors are read from it
 *   started      present once `runc start` succeeded (init only)
 *   paused       present while the task is paused (init only)
 *   process.json the exec'd process's spec (exec only)
 *
 * The shim reports readiness on the fd given with -f: one line
 *   "ok <shim pid> <process pid>\n"  or  "err <errno> <message>\n"
 * and then closes it. */
#ifndef CTR_SHIM_PROTO_H
#define CTR_SHIM_PROTO_H

#define CTR_SHIM_NAME "libctr-shim"
#define CTR_SHIM_PID_FILE "shim.pid"
#define CTR_SHIM_EXIT_FILE "exit"
#define CTR_SHIM_CONTROL "control"
#define CTR_SHIM_CONSOLE "console.sock"
#define CTR_SHIM_RUNC_LOG "runc.log"
#define CTR_SHIM_PROC_PID "pid"
#define CTR_SHIM_PROCESS_JSON "process.json"
#define CTR_SHIM_RUNC_OPTS "runc.opts"
/* How an "err" report about the shim's own cgroup (-G) begins: with
 * ENOENT it means the cgroup exists on no hierarchy. */
#define CTR_SHIM_ERR_CGROUP "shim cgroup"
/* In the process's directory: whoever starts the process holds it
 * exclusive (flock) from before the process can run until its start is
 * recorded and published; the shim takes it shared before it publishes the
 * exit, and a status read waits for it, so nobody sees a started process
 * as created and /tasks/exit never comes before the start event. A crashed
 * starter's lock goes with its process. */
#define CTR_SHIM_START_LOCK "start.lock"

/* Control requests, one per line. */
#define CTR_SHIM_CMD_KILL "kill"          /* kill <signal> */
#define CTR_SHIM_CMD_RESIZE "resize"      /* resize <cols> <rows> */
#define CTR_SHIM_CMD_CLOSE_STDIN "closestdin"
#define CTR_SHIM_CMD_QUIT "quit"

#endif
