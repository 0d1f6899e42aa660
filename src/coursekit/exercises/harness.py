"""The submission's side of a grading job: runs the submitted code, answers questions.

It is run inside the sandbox as `python -I -c <wire.py + this file>`, imports nothing
of coursekit, and reads its job from stdin: the submission's code cells in notebook
order, with a place-holder `{"test": n}` where the course's test n sits. It never
sees a test's text, has no verdict to give and holds no secret: the course's tests
run in another process (`coursekit.exercises.tester`), which asks this one, over a
pipe, for the values of names and for calls of the submission's functions, and gets
back data (`coursekit.exercises.wire`). Whatever the submitted code does here
(rebinding builtins, walking the stack, patching IPython, json or the harness
itself, forging messages), all it can change is the data it answers with: what an
honest function returning that value would have done.

Messages to the tester: `{"op": "test", "n": n}` when test n's turn comes, a reply
per request, `{"op": "note", "text": ...}` for an error in a cell, `{"op": "end"}`.
"""

import json
import os
import signal
import sys

from coursekit.exercises.wire import Decoder, encode  # sent: wire.py's text comes first

_IN = [None]
_OUT = [None]
_HANDLES: dict[int, object] = {}
_IDS: dict[int, int] = {}


def _send(message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(_OUT[0], data) :]


def _handle(obj):
    key = id(obj)
    if key not in _IDS:
        _IDS[key] = len(_HANDLES) + 1
        _HANDLES[_IDS[key]] = obj
    return _IDS[key]


def _decode(value):
    import importlib

    def remote(number, typename):
        return _HANDLES[number]

    return Decoder(remote, importlib.import_module)(value)


def _why(exc):
    text = str(exc).strip().split("\n", 1)[0][:200]
    return type(exc).__name__, text


def _answer(request, namespace):
    op = request.get("op")
    if op == "get":
        name = request["name"]
        if name not in namespace:
            return {"ok": False, "missing": True}
        return {"ok": True, "value": encode(namespace[name], _handle)}
    if op == "set":  # what a test defined, as the notebook's later cells would see it
        namespace[request["name"]] = _decode(request["value"])
        return {"ok": True, "value": ["n"]}
    target = _HANDLES[int(request["h"])]
    if op == "call":
        args = [_decode(a) for a in request["args"]]
        kwargs = {k: _decode(v) for k, v in request["kwargs"]}
        result = target(*args, **kwargs)
    elif op == "attr":
        result = getattr(target, request["name"])
    elif op == "item":
        result = target[_decode(request["key"])]
    elif op == "len":
        result = len(target)
    elif op == "iter":
        result = list(target)
    elif op == "contains":
        result = _decode(request["key"]) in target
    else:
        raise ValueError(f"unknown request {op!r}")
    return {"ok": True, "value": encode(result, _handle)}


def _serve(namespace):
    """Answer the tester's requests until it says the test is over."""
    for line in _IN[0]:
        request = json.loads(line)
        if request.get("op") == "continue":
            return True
        try:
            reply = _answer(request, namespace)
        except BaseException as exc:  # noqa: BLE001 - the submission may raise anything
            kind, text = _why(exc)
            reply = {"ok": False, "type": kind, "text": text}
        reply["id"] = request.get("id")
        try:
            _send(reply)
        except (TypeError, ValueError) as exc:
            _send(
                {
                    "id": request.get("id"),
                    "ok": False,
                    "type": type(exc).__name__,
                    "text": "reply not sent",
                }
            )
    return False


def _on_alarm(signum, frame):
    raise TimeoutError("the cell ran out of time")


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.colors = "NoColor"
    return shell


def main():
    job = json.loads(sys.stdin.buffer.read())
    os.close(0)
    _IN[0] = os.fdopen(int(job["from_tester"]), "r", encoding="utf-8")
    _OUT[0] = int(job["to_tester"])
    timeout = int(job["timeout"])
    signal.signal(signal.SIGALRM, _on_alarm)
    shell = _shell()
    namespace = shell.user_ns
    for number, cell in enumerate(job["cells"], 1):
        if "test" in cell:
            _send({"op": "test", "n": int(cell["test"])})
            if not _serve(namespace):
                break
            continue
        signal.alarm(timeout)
        try:
            ran = shell.run_cell(cell["source"], store_history=False)
            error = getattr(ran, "error_in_exec", None) or getattr(ran, "error_before_exec", None)
            if error is not None:
                kind, text = _why(error)
                _send({"op": "note", "text": f"cell {number}: {kind}: {text}"})
        except BaseException as exc:  # noqa: BLE001
            kind, text = _why(exc)
            _send({"op": "note", "text": f"cell {number}: {kind}: {text}"})
        finally:
            signal.alarm(0)
    _send({"op": "end"})
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
