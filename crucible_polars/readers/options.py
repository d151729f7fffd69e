"""Reader options: which keywords each format takes, as ``datasets``' builder configs do.

``load_dataset("csv", data_files=..., sepp="\\t")`` must fail, not load with the default
separator: ``datasets`` raises ``TypeError`` for a keyword its builder config does not
declare, and so do we, naming it and listing the valid ones. An option ``datasets`` knows
but this package does not implement is accepted only at its default value (where it changes
nothing); any other value raises ``ValueError`` saying so, never a silent difference.
Options that only tune speed or memory in ``datasets`` (``chunksize``, ``batch_size``...)
change no row and are accepted whatever their value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_BUILDER_CONFIG: dict[str, Any] = {"version": "0.0.0", "description": None}
"""``datasets.BuilderConfig`` fields every format takes (``name``, ``data_dir``,
``data_files`` and ``features`` are ``load_dataset`` arguments here)."""

INTERNAL_OPTIONS = frozenset({"storage_options", "split_files", "features"})
"""Keys the loader itself puts in a plan's options."""

_CSV_DEFAULTS: dict[str, Any] = {
    "sep": ",",
    "delimiter": None,
    "header": "infer",
    "names": None,
    "column_names": None,
    "index_col": None,
    "usecols": None,
    "prefix": None,
    "mangle_dupe_cols": True,
    "engine": None,
    "converters": None,
    "true_values": None,
    "false_values": None,
    "skipinitialspace": False,
    "skiprows": None,
    "nrows": None,
    "na_values": None,
    "keep_default_na": True,
    "na_filter": True,
    "verbose": False,
    "skip_blank_lines": True,
    "thousands": None,
    "decimal": ".",
    "lineterminator": None,
    "quotechar": '"',
    "quoting": 0,
    "escapechar": None,
    "comment": None,
    "encoding": None,
    "dialect": None,
    "error_bad_lines": True,
    "warn_bad_lines": True,
    "skipfooter": 0,
    "doublequote": True,
    "memory_map": False,
    "float_precision": None,
    "chunksize": 10_000,
    "encoding_errors": "strict",
    "on_bad_lines": "error",
    "date_format": None,
}

DATASETS_OPTIONS: dict[str, dict[str, Any]] = {
    "csv": _CSV_DEFAULTS,
    "json": {
        "encoding": "utf-8",
        "encoding_errors": None,
        "field": None,
        "use_threads": True,
        "block_size": None,
        "chunksize": 10 << 20,
        "newlines_in_values": None,
        "on_mixed_types": "use_json",
        "parse_agent_traces": True,
    },
    "text": {
        "encoding": "utf-8",
        "encoding_errors": None,
        "chunksize": 10 << 20,
        "keep_linebreaks": False,
        "sample_by": "line",
    },
    "parquet": {
        "batch_size": None,
        "columns": None,
        "filters": None,
        "fragment_scan_options": None,
        "on_bad_files": "error",
    },
    "arrow": {},
    "imagefolder": {
        "drop_labels": None,
        "drop_metadata": None,
        "metadata_filenames": None,
        "filters": None,
        "decode_num_threads": 32,
    },
}
"""Each packaged reader's options in ``datasets`` 5.2, with their defaults."""

_ANY_VALUE = frozenset(
    {"chunksize", "batch_size", "use_threads", "block_size", "memory_map", "verbose"}
    | {"decode_num_threads", "engine", "parse_agent_traces", "low_memory"}
)
"""Speed and memory knobs: no effect on the rows, any value accepted."""

IMPLEMENTED: dict[str, frozenset[str]] = {
    "csv": frozenset(
        {"sep", "delimiter", "header", "names", "column_names", "skiprows", "nrows"}
        | {"quotechar", "na_values", "keep_default_na", "na_filter", "encoding"}
        | {"encoding_errors", "on_bad_lines", "comment"}
    ),
    "json": frozenset({"field", "encoding", "encoding_errors"}),
    "text": frozenset({"keep_linebreaks", "sample_by", "encoding", "encoding_errors"}),
    "parquet": frozenset({"columns", "filters"}),
    "arrow": frozenset(),
    "imagefolder": frozenset({"drop_labels", "drop_metadata", "metadata_filenames"}),
}
"""Options whose every value we honour (loading and streaming)."""

STREAMING_IMPLEMENTED: dict[str, frozenset[str]] = IMPLEMENTED
"""Options whose every value ``streaming=True`` honours: all of them (those decoded in Python
stream through the non-streaming reader, see :mod:`crucible_polars.streaming.build`)."""

_SAME_AS_DEFAULT: dict[str, tuple[Any, ...]] = {
    "encoding": ("utf-8", "utf8", "UTF-8", "UTF8", "utf_8"),
    "encoding_errors": ("strict",),
}


def valid_options(fmt: str) -> list[str]:
    """Every keyword the ``fmt`` reader takes, sorted.

    Examples
    --------
    >>> valid_options("text")
    ['chunksize', 'description', 'encoding', 'encoding_errors', 'keep_linebreaks', ...]
    """
    return sorted({*DATASETS_OPTIONS.get(fmt, {}), *_BUILDER_CONFIG})


def check_reader_options(fmt: str, options: Mapping[str, Any], *, streaming: bool = False) -> None:
    """Refuse an option the reader of ``fmt`` does not take, or a value it cannot honour.

    Parameters
    ----------
    fmt
        The reader (``"csv"``, ``"json"``, ...).
    options
        The load's reader options (``**config_kwargs`` and the README config's).
    streaming
        Whether the load streams (some options are only honoured when loading).

    Raises
    ------
    TypeError
        An option that ``fmt``'s reader does not take (as ``datasets``), listing the valid ones.
    ValueError
        An option ``datasets`` takes whose value this package cannot honour.

    Examples
    --------
    >>> check_reader_options("csv", {"sep": "\\t"})
    >>> check_reader_options("csv", {"sepp": "\\t"})
    Traceback (most recent call last):
    ...
    TypeError: The csv reader got an unexpected option 'sepp'. Valid options: ...
    """
    known = DATASETS_OPTIONS.get(fmt)
    if known is None:
        return
    implemented = (STREAMING_IMPLEMENTED if streaming else IMPLEMENTED)[fmt]
    for key, value in options.items():
        if key in INTERNAL_OPTIONS or (key in _ANY_VALUE and key in known):
            continue
        if key not in known and key not in _BUILDER_CONFIG:
            raise TypeError(
                f"The {fmt} reader got an unexpected option {key!r}. "
                f"Valid options: {', '.join(valid_options(fmt))}."
            )
        if key in implemented or _is_default(fmt, key, value):
            continue
        where = " with streaming=True" if streaming and key in IMPLEMENTED[fmt] else ""
        supported = sorted(implemented)
        raise ValueError(
            f"The {fmt} option {key}={value!r} is not supported by crucible_polars{where} "
            f"(it is only accepted at its default, {_default(fmt, key)!r}). Options honoured "
            f"with any value: {', '.join(supported) or 'none'}."
            + (" Load without streaming=True for the others." if streaming else "")
        )


def _default(fmt: str, key: str) -> Any:
    return DATASETS_OPTIONS[fmt].get(key, _BUILDER_CONFIG.get(key))


def _is_default(fmt: str, key: str, value: Any) -> bool:
    default = _default(fmt, key)
    if value is None or value == default:
        return True
    return value in _SAME_AS_DEFAULT.get(key, ()) and default in (None, "utf-8", "infer")


LOAD_ARGUMENTS: dict[str, tuple[Any, ...] | None] = {
    "keep_in_memory": None,
    "num_proc": None,
    "verification_mode": None,
    "save_infos": (False, None),
    "download_config": (None,),
}
"""``datasets.load_dataset`` (and ``Dataset.from_*``) arguments that are not reader options:
``None`` where any value is accepted (memory, parallelism and split-size checks change no
row here: data stays lazy), else the only values accepted."""


def pop_load_arguments(kwargs: dict[str, Any], *, also: tuple[str, ...] = ()) -> dict[str, Any]:
    """``kwargs`` without ``datasets``' load-level arguments (:data:`LOAD_ARGUMENTS`, plus
    ``also``, accepted with any value); a value this package cannot honour raises.

    Examples
    --------
    >>> pop_load_arguments({"num_proc": 8, "sep": ";"})
    {'sep': ';'}
    >>> pop_load_arguments({"save_infos": True})
    Traceback (most recent call last):
    ...
    ValueError: save_infos=True is not supported by crucible_polars (accepted: False, None).
    """
    rest = dict(kwargs)
    for name in (*LOAD_ARGUMENTS, *also):
        if name not in rest:
            continue
        value = rest.pop(name)
        accepted = LOAD_ARGUMENTS.get(name)
        if accepted is not None and value not in accepted:
            shown = ", ".join(map(repr, accepted))
            raise ValueError(
                f"{name}={value!r} is not supported by crucible_polars (accepted: {shown})."
            )
    return rest
