"""Values between the submission's process and the tests' process, as data only.

The grading harness (the submission's process) and the tester (the course's tests'
process) exchange one JSON line per message. A value crosses as *data*: None,
bools, numbers, text, bytes, lists, tuples, dicts, sets, numpy arrays and pandas
Series/DataFrames/Indexes are rebuilt on the other side from their contents
(numpy's `allow_pickle=False` format, never pickle); a module crosses as its name
and is imported afresh on the other side; anything else (a function, an object of
the submission's own class) becomes a *handle* the other side can only call, index,
take attributes of, measure and iterate, each of which is one more request.

Decoding runs none of the sender's code, so what the submission sends can only
be a value, exactly as if an honest function had returned it. This file imports
nothing of coursekit: it is sent, with the harness, as the text of `python -c`.
"""

import base64
import io
import math

MAX_ITEMS = 1_000_000
MAX_DEPTH = 64


class WireError(ValueError):
    """A message or value that does not decode."""


def _np():
    import numpy

    return numpy


def encode(obj, handle, depth=0):
    """`obj` as JSON-able data; `handle(obj)` gives the id of an object that is not data."""
    if depth > MAX_DEPTH:
        raise WireError("a value nested too deeply")
    kind = type(obj)
    if obj is None:
        return ["n"]
    if kind is bool:
        return ["b", obj]
    if kind is int:
        return ["i", str(obj)]
    if kind is float:
        return ["f", repr(obj)]
    if kind is complex:
        return ["c", repr(obj.real), repr(obj.imag)]
    if kind is str:
        return ["s", obj]
    if kind is bytes:
        return ["y", base64.b64encode(obj).decode()]
    if kind in (list, tuple, set, frozenset):
        tag = {list: "L", tuple: "T", set: "S", frozenset: "F"}[kind]
        return [tag, [encode(x, handle, depth + 1) for x in obj]]
    if kind is dict:
        return [
            "D",
            [[encode(k, handle, depth + 1), encode(v, handle, depth + 1)] for k, v in obj.items()],
        ]
    module = getattr(kind, "__module__", "") or ""
    if kind.__name__ == "module" and module == "builtins":
        return ["m", str(obj.__name__)]
    if module == "numpy" or module.startswith("numpy."):
        np = _np()
        if isinstance(obj, (np.ndarray, np.generic)):
            return _array(np, obj, kind is not np.ndarray, handle, depth)
    if module == "pandas" or module.startswith("pandas."):
        return _pandas(obj, handle, depth)
    return ["h", handle(obj), f"{module}.{kind.__qualname__}".strip(".")]


def _array(np, obj, scalar, handle, depth):
    arr = np.asarray(obj)
    if arr.dtype.hasobject:
        return [
            "A",
            list(arr.shape),
            [encode(x, handle, depth + 1) for x in arr.ravel().tolist()],
            scalar,
        ]
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=False)
    return ["a", base64.b64encode(buffer.getvalue()).decode(), scalar]


def _pandas(obj, handle, depth):
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        columns = [encode(c, handle, depth + 1) for c in obj.columns]
        data = [_column(obj.iloc[:, i], handle, depth) for i in range(obj.shape[1])]
        return ["df", columns, _index(obj.index, handle, depth), data]
    if isinstance(obj, pd.Series):
        return [
            "se",
            _column(obj, handle, depth),
            _index(obj.index, handle, depth),
            encode(obj.name, handle, depth + 1),
        ]
    if isinstance(obj, pd.Index) and not isinstance(obj, pd.MultiIndex):
        return ["ix", _index(obj, handle, depth)]
    return ["h", handle(obj), type(obj).__qualname__]


def _column(series, handle, depth):
    np = _np()
    values = series.to_numpy()
    dtype = str(series.dtype)
    return [dtype, _array(np, values, False, handle, depth + 1)]


def _index(index, handle, depth):
    return [_column(index.to_series(), handle, depth), encode(index.name, handle, depth + 1)]


class Decoder:
    """Rebuilds values; `remote(id, typename)` makes the stand-in of a handle and
    `module(name)` the module of a name (None: refused)."""

    def __init__(self, remote, module):
        self.remote = remote
        self.module = module
        self.items = 0

    def __call__(self, value, depth=0):
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise WireError("a value too large or nested too deeply")
        if not isinstance(value, list) or not value or not isinstance(value[0], str):
            raise WireError("not a value")
        tag, rest = value[0], value[1:]
        if tag == "n":
            return None
        if tag == "b":
            return bool(rest[0])
        if tag == "i":
            if len(rest[0]) > 5000:
                raise WireError("an integer too long")
            return int(rest[0])
        if tag == "f":
            return float(rest[0])
        if tag == "c":
            return complex(float(rest[0]), float(rest[1]))
        if tag == "s":
            return str(rest[0])
        if tag == "y":
            return base64.b64decode(rest[0])
        if tag in ("L", "T", "S", "F"):
            items = [self(x, depth + 1) for x in rest[0]]
            return {"L": list, "T": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "D":
            return {self(k, depth + 1): self(v, depth + 1) for k, v in rest[0]}
        if tag == "m":
            return self.module(str(rest[0]))
        if tag == "h":
            return self.remote(int(rest[0]), str(rest[1]))
        if tag in ("a", "A"):
            return self._array(tag, rest, depth)
        if tag in ("df", "se", "ix"):
            return self._pandas(tag, rest, depth)
        raise WireError(f"unknown value tag {tag[:10]!r}")

    def _array(self, tag, rest, depth):
        np = _np()
        if tag == "a":
            arr = np.load(io.BytesIO(base64.b64decode(rest[0])), allow_pickle=False)
        else:
            shape = [int(n) for n in rest[0]]
            if math.prod(shape) != len(rest[1]):
                raise WireError("an array whose shape does not fit its items")
            arr = np.empty(len(rest[1]), dtype=object)
            for i, item in enumerate(rest[1]):
                arr[i] = self(item, depth + 1)
            arr = arr.reshape(shape)
        return arr[()] if rest[-1] else arr

    def _column(self, column, depth):
        import pandas as pd

        dtype, values = column
        arr = self._array(values[0], values[1:], depth + 1)
        try:
            return pd.array(arr, dtype=str(dtype)) if str(dtype) != str(arr.dtype) else arr
        except (TypeError, ValueError):
            return arr

    def _index(self, index, depth):
        import pandas as pd

        return pd.Index(self._column(index[0], depth), name=self(index[1], depth + 1))

    def _pandas(self, tag, rest, depth):
        import pandas as pd

        if tag == "df":
            columns = [self(c, depth + 1) for c in rest[0]]
            data = [self._column(c, depth) for c in rest[2]]
            if len(columns) != len(data):
                raise WireError("a table whose columns do not fit its data")
            index = self._index(rest[1], depth)
            frame = (
                pd.DataFrame(dict(enumerate(data)), index=index)
                if data
                else pd.DataFrame(index=index)
            )
            frame.columns = pd.Index(columns, dtype=object) if columns else frame.columns
            return frame
        if tag == "se":
            return pd.Series(
                self._column(rest[0], depth),
                index=self._index(rest[1], depth),
                name=self(rest[2], depth + 1),
            )
        return self._index(rest[0], depth)
