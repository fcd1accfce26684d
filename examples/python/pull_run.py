#!/usr/bin/env python3
"""pull-run through the Python binding.

    pull_run.py [--plain-http] ROOT STATE REF MISSING_REF

Pulls and unpacks REF, runs `sh -c 'echo hello from python; exit 3'` in a
container on a new snapshot of it (output on this program's stdout),
prints "exit status: 3", deletes the task, the container and its snapshot,
then pulls MISSING_REF (a tag the registry does not have) and prints the
CtrError it raises. Ends by checking that every libctr object it made was
freed. Exits 0 when all of that went as described, 1 otherwise.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libctr  # noqa: E402
from libctr import NewSpec, Opt  # noqa: E402


def main(argv):
    plain_http = len(argv) > 1 and argv[1] == "--plain-http"
    args = argv[1 + plain_http:]
    if len(args) != 4:
        print("usage: pull_run.py [--plain-http] ROOT STATE REF MISSING_REF", file=sys.stderr)
        return 2
    root, state, ref, missing = args

    def remote():
        return [Opt("plain_http")] if plain_http else []

    print("libctr", libctr.version())
    with libctr.Client(root, state) as client:
        with client.pull(ref, Opt("pull_unpack"), *remote()) as image:
            print("pulled %s (%s)" % (image.name, image.digest))
            config = image.config()
            container = client.new_container(
                "pull-run-py",
                Opt("image", image),
                Opt("new_snapshot", "pull-run-py-snapshot", image),
                NewSpec(Opt("image_config_args", config,
                            ["/bin/sh", "-c", "echo hello from python; exit 3"])))
        with container:
            # The task writes to our fd 1: flush what Python buffered first.
            sys.stdout.flush()
            with container.new_task(Opt("stdio_inherit")) as task:
                try:
                    task.start()
                    status = task.wait()
                finally:
                    task.delete(Opt("process_kill"))
            print("exit status: %d" % status)
            container.delete(Opt("snapshot_cleanup"))

        # An error: a tag the registry does not have.
        try:
            client.pull(missing, *remote()).free()
            print("pull of %s succeeded" % missing)
            return 1
        except libctr.CtrError as e:
            print("error code %d (%s): %s" % (e.code, libctr.strerror(e.code), e.message))
            if e.code != libctr.ENOTFOUND:
                return 1
    left = libctr.live_objects()
    print("objects not freed: %d" % left)
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
