"""A fork server of kernels, run as `python -c <this text>` by `coursekit.execute.forkserver`.

It runs in the kernel's own Python (which need not have coursekit installed), so it
imports nothing of coursekit. It imports ipykernel once, then reads requests, one JSON
line each, on stdin:

    {"preload": ["pandas", ...], "argv": [...], "cwd": "...", "env": {...}, "niceness": 0}

For each it first imports the `preload` modules it has not imported yet, then forks a
child that becomes a kernel exactly as `python -m ipykernel_launcher ARGV` started in
`cwd` with `env` would (`niceness` steps nicer), and answers {"pid": N} (or {"error":
"..."}) on its stdout. It reaps its children as they end and exits when its stdin closes.
"""

import contextlib
import importlib
import json
import os
import signal
import sys
import traceback


def _reap(signum, frame):  # noqa: ARG001 - a signal handler's signature
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(request, reply, launcher):
    """In the forked child: the kernel, as `python -m ipykernel_launcher` would start it."""
    try:
        os.setsid()  # a session of its own, as jupyter_client gives every kernel
        niceness = request.get("niceness", 0)
        if niceness:  # after setsid: the new session is a new autogroup, at 0
            os.setpriority(os.PRIO_PROCESS, 0, niceness)
            # (/proc/self/autogroup exists only where autogroups do)
            with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
                group.write(f"{niceness}\n")
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        reply.close()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [launcher, *request["argv"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
    except SystemExit as exc:
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def _preload(names, done):
    for name in names:
        if name not in done:
            done.add(name)
            with contextlib.suppress(Exception):  # the notebook's import will say why
                importlib.import_module(name)


def main():
    # Replies go on a copy of stdout; fd 1 itself goes to stderr, for what imports print.
    reply = os.fdopen(os.dup(1), "w")
    if sys.path and sys.path[0] == "":  # as ipykernel_launcher: IPython adds it back
        del sys.path[0]
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides when a run stops
    signal.signal(signal.SIGCHLD, _reap)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import ipykernel_launcher
    from ipykernel import kernelapp  # noqa: F401 - imported once, for every kernel

    launcher = ipykernel_launcher.__file__
    done = set()
    for line in sys.stdin:
        request = json.loads(line)
        _preload(request.get("preload", []), done)
        try:
            pid = os.fork()
        except OSError as exc:
            answer = {"error": str(exc)}
        else:
            if pid == 0:
                _become_kernel(request, reply, launcher)
            answer = {"pid": pid}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


main()
