"""The book's own execution settings, read from `_config.yml` as Jupyter Book 1.x reads them.

Jupyter Book maps its `execute:` section onto myst-nb's Sphinx settings
(`execute_notebooks` → `nb_execution_mode`, `allow_errors` →
`nb_execution_allow_errors`, `timeout` → `nb_execution_timeout`,
`exclude_patterns` → `nb_execution_excludepatterns`, `cache` →
`nb_execution_cache_path`, `run_in_temp` → `nb_execution_in_temp`), then lays
`sphinx: config:` over the result, so an `nb_execution_*` key written there wins.
Its defaults apply when a key is absent (`auto`, no errors allowed, 30 s, no
patterns). `nb_custom_formats` (only ever under `sphinx: config:`) names the
readers of text notebooks (`.Rmd: [jupytext.reads, {fmt: Rmd}]`), and the MyST
extensions of `parse:` decide how a MyST Markdown notebook splits into cells.

`execute_settings` is a pure function of the parsed mapping: it reads no file
and imports no book tool, so the loader and the checks can call it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MODES = ("off", "auto", "cache", "force")
DEFAULT_TIMEOUT = 30  # seconds per cell, Jupyter Book's default
NO_TIMEOUT = -1  # nbclient's "no limit"
# Jupyter Book's default `parse.myst_enable_extensions` (its default_config.yml).
DEFAULT_MYST_EXTENSIONS = ("colon_fence", "dollarmath", "linkify", "substitution", "tasklist")

# `execute:` key → the myst-nb Sphinx setting Jupyter Book turns it into.
SPHINX_NAMES = {
    "execute_notebooks": "nb_execution_mode",
    "allow_errors": "nb_execution_allow_errors",
    "timeout": "nb_execution_timeout",
    "exclude_patterns": "nb_execution_excludepatterns",
    "cache": "nb_execution_cache_path",
    "run_in_temp": "nb_execution_in_temp",
}


@dataclass(frozen=True, slots=True)
class CustomFormat:
    """One `nb_custom_formats` entry: the reader of the pages ending in `suffix`."""

    suffix: str  # ".Rmd"
    reader: str  # an importable "module.function", e.g. "jupytext.reads"
    kwargs: tuple[tuple[str, Any], ...] = ()  # keyword arguments of the reader
    commonmark_only: bool = False


@dataclass(frozen=True, slots=True)
class ExecuteSettings:
    """How the book wants its notebooks executed (Jupyter Book's meaning of each key)."""

    mode: str = "auto"  # off | auto | cache | force
    allow_errors: bool = False
    timeout: int = DEFAULT_TIMEOUT  # seconds per cell; NO_TIMEOUT for none
    exclude_patterns: tuple[str, ...] = ()  # matched as myst-nb matches them
    cache: str | None = None  # as written, relative to the book; None: the default one
    run_in_temp: bool = False  # run in an empty temporary folder, not the notebook's
    custom_formats: tuple[CustomFormat, ...] = ()
    myst_extensions: tuple[str, ...] = DEFAULT_MYST_EXTENSIONS
    kernel_aliases: tuple[tuple[str, str], ...] = field(default=())  # nb_kernel_rgx_aliases


@dataclass(frozen=True, slots=True)
class SettingProblem:
    """A value Jupyter Book would not accept, with the keys that lead to it."""

    keys: tuple[str, ...]  # e.g. ("execute", "timeout")
    message: str

    def __str__(self) -> str:
        return f"{'.'.join(self.keys)}: {self.message}"


class SettingsError(ValueError):
    """One or more execution settings are wrong; `problems` lists every one."""

    def __init__(self, problems: Sequence[SettingProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(map(str, self.problems)))


def execute_settings(config_raw: Mapping[str, Any]) -> ExecuteSettings:
    """The execution settings of the book whose parsed `_config.yml` is `config_raw`.

    Raises `SettingsError` listing every value Jupyter Book would reject.
    """
    problems: list[SettingProblem] = []
    values = _merged(config_raw, problems)
    settings = ExecuteSettings(
        mode=_mode(values, problems),
        allow_errors=_flag(values, "allow_errors", problems),
        timeout=_timeout(values, problems),
        exclude_patterns=_strings(values, "exclude_patterns", problems),
        cache=_cache(values, problems),
        run_in_temp=_flag(values, "run_in_temp", problems),
        custom_formats=_custom_formats(_sphinx_config(config_raw), problems),
        myst_extensions=_myst_extensions(config_raw, problems),
        kernel_aliases=_kernel_aliases(_sphinx_config(config_raw), problems),
    )
    if problems:
        raise SettingsError(problems)
    return settings


# ------------------------------------------------------------------ the readers


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sphinx_config(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(_mapping(raw.get("sphinx")).get("config"))


def _merged(raw: Mapping[str, Any], problems: list[SettingProblem]) -> dict[str, tuple[Any, str]]:
    """Each `execute:` key's value and where it was written, `sphinx: config:` winning."""
    execute = raw.get("execute")
    if execute is not None and not isinstance(execute, Mapping):
        problems.append(SettingProblem(("execute",), "must be a mapping of settings"))
    values = {k: (v, f"execute.{k}") for k, v in _mapping(execute).items() if k in SPHINX_NAMES}
    sphinx = _sphinx_config(raw)
    for key, name in SPHINX_NAMES.items():
        if name in sphinx:
            values[key] = (sphinx[name], f"sphinx.config.{name}")
    return values


def _where(values: dict[str, tuple[Any, str]], key: str) -> tuple[str, ...]:
    return tuple(values.get(key, (None, f"execute.{key}"))[1].split("."))


def _mode(values: dict[str, tuple[Any, str]], problems: list[SettingProblem]) -> str:
    mode = values.get("execute_notebooks", ("auto", ""))[0]
    if mode is False:  # YAML 1.1 reads a bare `off` as false (Jupyter Book says the same)
        return "off"
    if mode not in MODES:
        problems.append(
            SettingProblem(
                _where(values, "execute_notebooks"),
                f"must be one of {', '.join(MODES)}, got {mode!r}",
            )
        )
        return "auto"
    return str(mode)


def _flag(values: dict[str, tuple[Any, str]], key: str, problems: list[SettingProblem]) -> bool:
    value = values.get(key, (False, ""))[0]
    if not isinstance(value, bool):
        where = _where(values, key)
        problems.append(SettingProblem(where, f"must be true or false, got {value!r}"))
        return False
    return value


def cell_timeout(given: int | None, settings: ExecuteSettings | None = None) -> int:
    """Seconds a cell may run, for every command that runs code (build, verify, grade):
    `--timeout` when given, else the book's `execute.timeout`, else DEFAULT_TIMEOUT."""
    if given:
        return given
    return settings.timeout if settings is not None else DEFAULT_TIMEOUT


def _timeout(values: dict[str, tuple[Any, str]], problems: list[SettingProblem]) -> int:
    value = values.get("timeout", (DEFAULT_TIMEOUT, ""))[0]
    if value is None or value == NO_TIMEOUT:
        return NO_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(
            SettingProblem(
                _where(values, "timeout"),
                f"must be a number of seconds (or -1 for no limit), got {value!r}",
            )
        )
        return DEFAULT_TIMEOUT
    return value


def _strings(
    values: dict[str, tuple[Any, str]], key: str, problems: list[SettingProblem]
) -> tuple[str, ...]:
    value = values.get(key, ((), ""))[0]
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        problems.append(SettingProblem(_where(values, key), "must be a list of glob patterns"))
        return ()
    return tuple(value)


def _cache(values: dict[str, tuple[Any, str]], problems: list[SettingProblem]) -> str | None:
    value = values.get("cache", ("", ""))[0]
    if value in ("", None):
        return None
    if not isinstance(value, str):
        problems.append(SettingProblem(_where(values, "cache"), "must be a folder path"))
        return None
    return value


def _custom_formats(
    sphinx: Mapping[str, Any], problems: list[SettingProblem]
) -> tuple[CustomFormat, ...]:
    """`nb_custom_formats`, in the shapes myst-nb accepts: "reader", [reader, kwargs(, bool)]."""
    value = sphinx.get("nb_custom_formats")
    if value is None:
        return ()
    keys = ("sphinx", "config", "nb_custom_formats")
    if not isinstance(value, Mapping):
        problems.append(SettingProblem(keys, "must map a suffix to a reader"))
        return ()
    formats = []
    for suffix, spec in value.items():
        entry = list(spec) if isinstance(spec, list | tuple) else [spec]
        defaults: list[Any] = [None, {}, False]
        reader, kwargs, commonmark = (entry + defaults[len(entry) :])[:3]
        if (
            not isinstance(suffix, str)
            or not isinstance(reader, str)
            or "." not in reader
            or not isinstance(kwargs, Mapping)
            or not isinstance(commonmark, bool)
            or len(entry) > 3
        ):
            problems.append(
                SettingProblem(
                    (*keys, str(suffix)),
                    "must be a reader such as jupytext.reads, or [reader, {keyword: value}] "
                    f"(optionally with true/false for CommonMark only), got {spec!r}",
                )
            )
            continue
        formats.append(CustomFormat(suffix, reader, tuple(kwargs.items()), commonmark))
    return tuple(formats)


def _myst_extensions(raw: Mapping[str, Any], problems: list[SettingProblem]) -> tuple[str, ...]:
    value = _sphinx_config(raw).get(
        "myst_enable_extensions",
        _mapping(raw.get("parse")).get("myst_enable_extensions", DEFAULT_MYST_EXTENSIONS),
    )
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        problems.append(SettingProblem(("parse", "myst_enable_extensions"), "must be a list"))
        return DEFAULT_MYST_EXTENSIONS
    return tuple(value)


def _kernel_aliases(
    sphinx: Mapping[str, Any], problems: list[SettingProblem]
) -> tuple[tuple[str, str], ...]:
    value = sphinx.get("nb_kernel_rgx_aliases") or {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.append(
            SettingProblem(
                ("sphinx", "config", "nb_kernel_rgx_aliases"),
                "must map a kernel-name pattern to a kernel name",
            )
        )
        return ()
    return tuple(value.items())
