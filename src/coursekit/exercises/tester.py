"""The tests' side of a grading job: runs the course's tests, gives the verdicts.

Run as `python -I -c <wire.py + this file>` by the grader, outside the submission's
sandbox and before it starts, it makes itself undumpable (no process of the same
user may trace it or open its /proc files), reads its job from stdin (the course's
test cells, from the grader's own copy of the course) and waits for the submission's
process to say "test n". It then runs test n in a fresh namespace of its own: the
builtins are its own, untouched; every other name the test uses is asked of the
submission and comes back as data (`coursekit.exercises.wire`), a module by its name
(imported here, afresh), a function of the submission as a stand-in whose calls are
requests answered over the pipe. No code of the submission ever runs here, so none
can rebind what the test uses, walk the stack to this process or write a verdict.

Verdicts go to stdout, one JSON line per test: `{"test": n, "status": s, "why": w}`,
s one of passed, failed, error (in the student's code), timeout, not run.
"""

import ast
import builtins
import ctypes
import importlib
import json
import os
import signal
import sys
from contextlib import suppress

from coursekit.exercises.wire import Decoder, WireError, encode  # sent: wire.py's text comes first

MAX_LINE = 256 * 1024**2
_STATE = {"in": -1, "out": -1, "buffer": b"", "next": 0, "notes": 0}
# Exceptions standing for the submission's, kept so that their ids stay theirs.
_FROM_SUBMISSION: list[BaseException] = []
_TEST_NAMES: dict[str, object] = {}  # names the tests themselves defined, kept for later tests
_DEFINED: list[str] = []  # those the last test defined
_MODULES: set[str] = set()  # top-level modules the course's notebook imports


class SubmissionGone(Exception):
    """The submission's process ended or answered nonsense."""


class TestTimeout(BaseException):
    """A test ran out of time (BaseException: a test's `except Exception` cannot catch it)."""


def _emit(message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(_STATE["verdicts"], data) :]


def _send(message):
    data = (json.dumps(message) + "\n").encode()
    try:
        while data:
            data = data[os.write(_STATE["out"], data) :]
    except OSError as exc:
        raise SubmissionGone("the submission's process is gone") from exc


def _read():
    """The next message from the submission (a dict), None at its end."""
    while b"\n" not in _STATE["buffer"]:
        if len(_STATE["buffer"]) > MAX_LINE:
            raise SubmissionGone("the submission sent an answer too large")
        chunk = os.read(_STATE["in"], 1 << 20)
        if not chunk:
            return None
        _STATE["buffer"] += chunk
    line, _STATE["buffer"] = _STATE["buffer"].split(b"\n", 1)
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return {}
    return message if isinstance(message, dict) else {}


def _note(text):
    if _STATE["notes"] < 10:
        _STATE["notes"] += 1
        _emit({"note": str(text)[:300]})


class Remote:
    """A function or object of the submission: what it gives back crosses as data."""

    __slots__ = ("_h", "_t")

    def __init__(self, handle, typename):
        object.__setattr__(self, "_h", handle)
        object.__setattr__(self, "_t", typename)

    def __call__(self, *args, **kwargs):
        return _request(
            {
                "op": "call",
                "h": self._h,
                "args": [_encode(a) for a in args],
                "kwargs": [[str(k), _encode(v)] for k, v in kwargs.items()],
            }
        )

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _request({"op": "attr", "h": self._h, "name": name})

    def __getitem__(self, key):
        return _request({"op": "item", "h": self._h, "key": _encode(key)})

    def __len__(self):
        return _request({"op": "len", "h": self._h})

    def __iter__(self):
        return iter(_request({"op": "iter", "h": self._h}))

    def __contains__(self, key):
        return _request({"op": "contains", "h": self._h, "key": _encode(key)})

    def __bool__(self):
        raise TypeError(f"a {self._t} of the submission is not data the grader can judge")

    def __repr__(self):
        return f"<{self._t} of the submission>"


# What a test's TypeError calls it ("unsupported operand type(s) for -: '...' and 'float'").
Remote.__name__ = Remote.__qualname__ = "submission_object_not_data"


def _encode(value):
    def handle(obj):
        if isinstance(obj, Remote):
            return obj._h
        raise WireError(f"a test cannot pass a {type(obj).__name__} to the submission")

    return encode(value, handle)


def _module(name):
    """A module the submission's value names: only one the course's notebook imports
    (or one already loaded here), so a submission cannot make this process run the
    import-time code of any other installed module."""
    if not all(part.isidentifier() for part in name.split(".")):
        raise WireError(f"not a module name: {name[:80]!r}")
    if name not in sys.modules and name.split(".")[0] not in _MODULES:
        raise WireError(f"the course's notebook does not import {name[:80]!r}")
    return importlib.import_module(name)


def _from_submission(kind, text):
    """The exception that stands for one the submission's code raised."""
    cls = getattr(builtins, str(kind), None)
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, TestTimeout):
        try:
            exc = cls(text)
        except Exception:  # noqa: BLE001 - an exception class with odd arguments
            exc = RuntimeError(f"{kind}: {text}")
    else:
        exc = RuntimeError(f"{kind}: {text}")
    _FROM_SUBMISSION.append(exc)
    return exc


def _request(message):
    number = _STATE["next"] = _STATE["next"] + 1
    _send(dict(message, id=number))
    try:
        while True:
            reply = _read()
            if reply is None:
                raise SubmissionGone("the submission's process ended during a test")
            if reply.get("op") == "note":
                _note(reply.get("text", ""))
            if reply.get("id") == number and "ok" in reply:
                break
    except TestTimeout:
        # The submission is still busy with this request: it will not answer another.
        _STATE["broken"] = "the submission stopped answering after a test timed out"
        raise
    if not reply["ok"]:
        if reply.get("missing"):
            raise KeyError(message.get("name"))
        raise _from_submission(
            str(reply.get("type", "Error"))[:80], str(reply.get("text", ""))[:200]
        )
    try:
        return Decoder(Remote, _module)(reply.get("value"))
    except (WireError, ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise SubmissionGone(
            f"the submission answered with something that is not a value ({exc})"
        ) from exc


def _first_line(exc):
    text = str(exc).strip().split("\n", 1)[0][:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _on_alarm(signum, frame):
    raise TestTimeout()


def run_test(source, number, timeout):
    """The verdict of one test: (status, why)."""
    try:
        tree = ast.parse(source, f"<test {number}>")
        code = compile(tree, f"<test {number}>", "exec")
    except SyntaxError as exc:
        return "failed", f"the test does not compile: {exc}"
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    namespace = {"__builtins__": builtins, "__name__": "__main__"}
    fetched = set(namespace)
    signal.alarm(timeout)
    try:
        for name in names:
            if hasattr(builtins, name):
                continue  # never the submission's: a rebound `abs` stays the real one
            if name in _TEST_NAMES:  # what an earlier test defined (`tiny = pd.DataFrame(...)`)
                namespace[name] = _TEST_NAMES[name]
                continue
            with suppress(KeyError):  # not defined by the submission: the test may define it
                namespace[name] = _request({"op": "get", "name": name})
        fetched = set(namespace)
        exec(code, namespace)
    except TestTimeout:
        return "timeout", f"did not finish within the {timeout} s timeout"
    except SubmissionGone as exc:
        _STATE["broken"] = str(exc)
        return "error", str(exc)
    except BaseException as exc:  # noqa: BLE001 - any other exception fails the test
        if any(exc is e for e in _FROM_SUBMISSION):
            return "error", _first_line(exc)
        return "failed", _first_line(exc)
    finally:
        signal.alarm(0)
        for name, value in namespace.items():
            if name not in fetched:
                _TEST_NAMES[name] = value
                _DEFINED.append(name)
    return "passed", ""


def share_test_names(timeout):
    """Hand what the last test defined to the submission (as in a notebook, where later
    cells see it); values that are not data stay here."""
    signal.alarm(timeout)
    try:
        for name in _DEFINED:
            with suppress(WireError, KeyError, RecursionError):
                _request({"op": "set", "name": name, "value": _encode(_TEST_NAMES[name])})
    except TestTimeout:
        _STATE["broken"] = "the submission stopped answering"
    except SubmissionGone as exc:
        _STATE["broken"] = str(exc)
    except Exception:  # noqa: BLE001, S110 - an error the submission raised: its loss
        pass
    finally:
        signal.alarm(0)
        _DEFINED.clear()


def main():
    with suppress(OSError, AttributeError):  # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/fd
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    job = json.loads(sys.stdin.buffer.read())
    _STATE["verdicts"] = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what the tests print is not a verdict
    os.dup2(devnull, 2)
    _STATE["in"], _STATE["out"] = int(job["from_submission"]), int(job["to_submission"])
    timeout = int(job["timeout"])
    tests = {int(t["n"]): t["source"] for t in job["tests"]}
    _MODULES.update(str(m) for m in job.get("modules", []))
    signal.signal(signal.SIGALRM, _on_alarm)
    _emit({"ready": True})
    done = set()
    why_not = "the submission's notebook ended before this test"
    while not _STATE.get("broken"):
        try:
            message = _read()
        except SubmissionGone as exc:
            why_not = str(exc)
            break
        if message is None or message.get("op") == "end":
            break
        if message.get("op") == "note":
            _note(message.get("text", ""))
            continue
        if message.get("op") != "test":
            continue
        number = message.get("n")
        if isinstance(number, int) and number in tests and number not in done:
            done.add(number)
            status, why = run_test(tests[number], number, timeout)
            _emit({"test": number, "status": status, "why": why})
            if not _STATE.get("broken"):
                share_test_names(timeout)
        if not _STATE.get("broken"):
            try:
                _send({"op": "continue"})
            except SubmissionGone as exc:
                why_not = str(exc)
                break
    why_not = _STATE.get("broken") or why_not
    for number in tests:
        if number not in done:
            _emit({"test": number, "status": "not run", "why": why_not})
    os._exit(0)


if __name__ == "__main__":
    main()
