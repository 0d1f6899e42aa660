"""The grading harness: the program that runs one submission inside the sandbox.

It is run as `python -I -c <this file's text>`, imports nothing of coursekit, and
reads its whole job from stdin before any submitted code runs: the code cells in
notebook order, each either the submission's own code or one of the course's test
cells. Submitted cells run through IPython (magics and `display` work as in a
notebook); test cells never do. Each test is compiled and executed by the
harness itself, after putting back what a submission could have bent: trace and
profile hooks, builtins, the import system, `sys.modules` as it was at start.
So IPython hooks (`input_transformers_cleanup`, `ast_transformers`,
`set_custom_exc`, a patched `showtraceback`), `sys.settrace` tricks, a patched
`abs` or `__import__`, and printed "passed" lines cannot make a test pass. An
audit hook installed first refuses any later audit hook.

Verdicts go to a pipe of their own (not stdout, which the submission shares), one line
per test (`<nonce> test <n> <1|0> <hex of why>`, made of builtin types only, since a
submission may patch the json module); the grader takes the first verdict for each
test and ignores the rest. A test is judged failed while a thread other than the
main one runs (it could change the test's names under its feet).
"""

import builtins
import gc
import json
import os
import signal
import sys
import threading

_exec = exec
_compile = compile
_write = os.write
_exit = os._exit
_listdir = os.listdir
_settrace = sys.settrace
_setprofile = sys.setprofile
_thread_settrace = threading.settrace
_thread_setprofile = threading.setprofile
_builtins = dict(builtins.__dict__)
_modules = dict(sys.modules)
_meta_path = list(sys.meta_path)
_path_hooks = list(sys.path_hooks)
_path = list(sys.path)
_stdout, _stderr = sys.stdout, sys.stderr
_gc_callbacks = gc.callbacks  # the list the collector calls (the module attribute may change)


def _no_more_audit_hooks(event, args):
    if event == "sys.addaudithook":
        raise RuntimeError("no audit hooks while grading")


sys.addaudithook(_no_more_audit_hooks)


def _restore():
    """Undo what submitted code may have changed to bend the next test."""
    _settrace(None)
    _setprofile(None)
    _thread_settrace(None)
    _thread_setprofile(None)
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:  # Python 3.12+: sys.monitoring callbacks see every line
        for tool in range(6):
            try:
                monitoring.set_events(tool, 0)
                monitoring.free_tool_id(tool)
            except ValueError:
                pass
    _gc_callbacks.clear()
    builtins.__dict__.clear()
    builtins.__dict__.update(_builtins)
    for name, module in _modules.items():
        sys.modules[name] = module
    sys.meta_path[:] = _meta_path
    sys.path_hooks[:] = _path_hooks
    sys.path[:] = _path
    sys.path_importer_cache.clear()
    sys.stdout, sys.stderr = _stdout, _stderr


def _threads():
    """OS threads of this process (a thread started from C is not in `threading`)."""
    try:
        return len(_listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _other_processes():
    """Processes besides this one and the sandbox's init, when the job runs in its own
    pid namespace (elsewhere /proc shows the whole machine and this says 0)."""
    if not _COUNT_PROCESSES[0]:
        return 0
    mine = {1, os.getpid()}
    count = 0
    for entry in _listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            count += 1
    return count


_COUNT_PROCESSES = [False]
_VERDICT_FD = [3]


def _untrusted():
    """Why a test cannot be trusted now, or "" when it can."""
    if _threads() > 1:
        return "a thread of the submission was still running"
    if _other_processes():
        return "a process of the submission was still running"
    return ""


def _verdict(nonce, test, passed, why):
    _send(nonce, f"test {int(test)} {1 if passed else 0}", why)


def _send(nonce, what, text=""):
    # Plain text of builtin types only: a submission may patch the json module.
    data = f"{nonce} {what} {str(text).encode('utf-8', 'replace').hex()}\n".encode()
    while data:
        data = data[_write(_VERDICT_FD[0], data) :]


def _on_alarm(signum, frame):
    raise TimeoutError("the cell ran out of time")


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # its saving thread would count as a stray thread
    shell = InteractiveShell.instance(config=config)
    shell.colors = "NoColor"
    return shell


def main():
    job = json.loads(sys.stdin.buffer.read())
    os.close(0)
    nonce, cells, timeout = job["nonce"], job["cells"], int(job["timeout"])
    _COUNT_PROCESSES[0] = bool(job.get("own_pid_namespace"))
    _VERDICT_FD[0] = int(job["verdict_fd"])
    signal.signal(signal.SIGALRM, _on_alarm)
    shell = _shell()
    namespace = shell.user_ns
    for cell in cells:
        if cell["kind"] == "code":
            signal.alarm(timeout)
            try:
                ran = shell.run_cell(cell["source"], store_history=False)
                if isinstance(getattr(ran, "error_in_exec", None), TimeoutError):
                    _send(
                        nonce, "note 0 0", f"a cell did not finish within the {timeout} s timeout"
                    )
            except BaseException as exc:  # noqa: BLE001 - a submission may raise anything
                print(f"cell stopped: {type(exc).__name__}", file=_stderr)
            finally:
                signal.alarm(0)
            continue
        _restore()
        code = None
        try:
            code = _compile(cell["source"], f"<test {cell['test']}>", "exec")
        except SyntaxError as exc:
            _verdict(nonce, cell["test"], False, f"SyntaxError: {exc}")
            continue
        why = _untrusted()
        if why:
            _verdict(nonce, cell["test"], False, why)
            continue
        namespace["__builtins__"] = builtins
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(timeout)
        try:
            _exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - any exception fails the test
            signal.alarm(0)
            _restore()
            _verdict(nonce, cell["test"], False, f"{type(exc).__name__}: {str(exc)[:200]}")
            continue
        signal.alarm(0)
        _restore()
        why = _untrusted()
        _verdict(nonce, cell["test"], not why, why)
    _stdout.flush()
    _exit(0)  # skip atexit handlers and finalizers a submission may have left


if __name__ == "__main__":
    main()
