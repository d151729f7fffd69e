"""JSON lines of rows that hold ``Json`` values, as ``datasets``' ``to_json`` writes them.

A ``Json`` column stores JSON text; ``datasets`` decodes it before writing, so the line
holds the value (``{"c":-1}``), not a string of it (``{"c":"-1"}``). Polars' JSON writer
cannot put text into a line as it is, so each row is encoded by Polars with a placeholder
string in place of every column that holds ``Json`` values, and the placeholder is then
replaced by that column's JSON text: the stored text for a ``Json`` value, built around it
for ``Json`` inside lists and structs. Everything else is written as Polars writes it, and
the whole write stays a Polars query (streamed to a file).

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import Features, Json, Value
>>> frame = pl.DataFrame({"c": ["-1", '"foo"', None], "n": [1, 2, 3]})
>>> features = Features({"c": Json(), "n": Value("int64")})
>>> print(frame.select(json_line(features)).to_series().str.join("\\n").item())
{"c":-1,"n":1}
{"c":"foo","n":2}
{"c":null,"n":3}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

import polars as pl

from crucible_polars.features import Features, Json, LargeList, List
from crucible_polars.features.nested import FeatureType

__all__ = ["holds_json", "json_line", "json_options", "sink_json_lines", "write_json_frames"]

LINE = "json_line"


def holds_json(feature: FeatureType) -> bool:
    """Whether ``feature`` is, or holds, a ``Json`` feature (decoded or not: ``datasets``
    writes both decoded).

    Parameters
    ----------
    feature
        A feature, or a dict or list of features.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> holds_json({"a": List(Json(decode=False))}), holds_json(Value("string"))
    (True, False)
    """
    if isinstance(feature, Json):
        return True
    if isinstance(feature, Mapping):
        return any(holds_json(f) for f in feature.values())
    item = _item(feature)
    return item is not None and holds_json(item)


def _item(feature: FeatureType) -> Any:
    if isinstance(feature, (List, LargeList)):
        return feature.feature
    if isinstance(feature, (list, tuple)) and len(feature) == 1:
        return feature[0]
    return None


def _plain_text(expr: pl.Expr) -> pl.Expr:
    """The JSON text Polars writes for a value without ``Json`` parts (``null`` for null)."""
    encoded = pl.struct(expr.alias("v")).struct.json_encode()
    return encoded.str.strip_prefix('{"v":').str.strip_suffix("}")


def _text(expr: pl.Expr, feature: FeatureType) -> pl.Expr:
    """The JSON text of a value holding ``Json`` parts: their stored text as it is."""
    if isinstance(feature, Json):
        return expr.fill_null(pl.lit("null"))
    if not holds_json(feature):
        return _plain_text(expr)
    if isinstance(feature, Mapping):
        parts: list[pl.Expr] = []
        for index, (name, sub) in enumerate(feature.items()):
            key = ("," if index else "{") + json.dumps(name, ensure_ascii=False) + ":"
            parts += [pl.lit(key), _text(expr.struct.field(name), sub)]
        value = pl.concat_str([*parts, pl.lit("}")])
    else:  # a list holding Json
        items = expr.list.eval(_text(pl.element(), _item(feature))).list.join(",")
        value = pl.concat_str([pl.lit("["), items, pl.lit("]")])
    return pl.when(expr.is_null()).then(pl.lit("null")).otherwise(value)


def _placeholder(name: str, text: str) -> pl.Expr:
    """``text`` in every row of column ``name`` (as long as the column, even when no other
    column of the row is read)."""
    return pl.when(pl.col(name).is_null()).then(pl.lit(text)).otherwise(pl.lit(text)).alias(name)


def json_line(features: Features) -> pl.Expr:
    """An expression of each row's JSON line (without the newline), named ``json_line``:
    the columns in order, ``Json`` values written as JSON, not as strings of it.

    Parameters
    ----------
    features
        The frame's columns and their features.

    Examples
    --------
    >>> from crucible_polars.features import Features
    >>> frame = pl.DataFrame({"c": [["1", '{"x":[2]}'], None]})
    >>> frame.select(json_line(Features({"c": List(Json())})))["json_line"].to_list()
    ['{"c":[1,{"x":[2]}]}', '{"c":null}']
    """
    marker = f"crucible-json-{uuid.uuid4().hex}-"  # random: no value of the row holds it
    placed = {name: f"{marker}{index}" for index, name in enumerate(features)}
    columns = [
        _placeholder(name, placed[name]) if holds_json(feature) else pl.col(name)
        for name, feature in features.items()
    ]
    line = pl.struct(columns).struct.json_encode()
    for name, feature in features.items():
        if holds_json(feature):
            # the placeholder is written as a JSON string: replace it, quotes and all
            quoted = json.dumps(placed[name])
            line = line.str.replace(quoted, _text(pl.col(name), feature), literal=True)
    return line.alias(LINE)


def write_json_frames(
    frames: Iterable[pl.DataFrame],
    features: Features,
    file: IO[bytes],
    *,
    lines: bool = True,
    on_rows: Callable[[int], Any] | None = None,
) -> None:
    """Write frames as JSON lines (``lines=False``: one JSON array), ``Json`` values decoded.

    Parameters
    ----------
    frames
        The rows, batch by batch.
    features
        Their features.
    file
        A binary file object.
    lines
        JSON lines (``True``) or one array of records (``False``, as pandas writes it).
    on_rows
        Called with the number of rows of each frame written (a progress bar).

    Examples
    --------
    >>> import io
    >>> from crucible_polars.features import Features
    >>> buffer = io.BytesIO()
    >>> frame = pl.DataFrame({"c": ['"a"', "[1]"]})
    >>> write_json_frames([frame], Features({"c": Json()}), buffer, lines=False)
    >>> buffer.getvalue()
    b'[{"c":"a"},{"c":[1]}]\\n'
    """
    expr = json_line(features)
    first = True
    if not lines:
        file.write(b"[")
    for frame in frames:
        rows = frame.select(expr).to_series()
        if not len(rows):
            continue
        if lines:
            file.write(rows.str.join("\n").item().encode() + b"\n")
        else:
            file.write((b"" if first else b",") + rows.str.join(",").item().encode())
        first = False
        if on_rows is not None:
            on_rows(len(rows))
    if not lines:
        file.write(b"]\n")


def sink_json_lines(lf: pl.LazyFrame, features: Features, path: str) -> None:
    """Stream a plan's rows into a JSON lines file with Polars' engine (``Json`` decoded).

    Parameters
    ----------
    lf
        The rows.
    features
        Their features.
    path
        The file to write.

    Examples
    --------
    >>> import os, tempfile
    >>> from crucible_polars.features import Features
    >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> sink_json_lines(pl.LazyFrame({"c": ['{"k":1}']}), Features({"c": Json()}), path)
    >>> open(path).read()
    '{"c":{"k":1}}\\n'
    """
    lines = lf.select(json_line(features))
    # one string column, never quoted: each row's line as it is (JSON text has no newline)
    lines.sink_csv(path, include_header=False, quote_style="never")


_UNSUPPORTED = ("date_format", "double_precision", "date_unit", "default_handler", "indent")


def json_options(options: dict[str, Any]) -> tuple[bool, str | None]:
    """Read ``to_json``'s keyword options (pandas' ``to_json`` names, which ``datasets``
    passes on): whether to write JSON lines, and the compression (``"infer"`` by default:
    from a path's extension, as ``datasets``).

    Parameters
    ----------
    options
        The keyword options given to ``to_json``.

    Raises
    ------
    TypeError
        Options pandas' ``to_json`` does not have (named).
    NotImplementedError
        pandas options that would change the text in ways not supported here.

    Examples
    --------
    >>> json_options({}), json_options({"lines": False, "compression": "gzip"})
    ((True, 'infer'), (False, 'gzip'))
    """
    options = dict(options)
    orient = options.pop("orient", "records")
    lines = options.pop("lines", orient == "records")
    if orient != "records" or options.pop("force_ascii", False):
        raise NotImplementedError(
            "to_json writes records as UTF-8 (orient='records', force_ascii=False); "
            "for other layouts use ds.to_pandas().to_json(...)."
        )
    if options.pop("index", None):
        raise ValueError(
            "'index=True' is only valid when 'orient' is 'split', 'table', 'index', or 'columns'."
        )
    if options.pop("mode", "w") != "w":
        raise NotImplementedError("to_json writes a new file: give mode='w' (or no mode).")
    compression = options.pop("compression", "infer")
    given = [name for name in _UNSUPPORTED if options.pop(name, None) is not None]
    if given:
        raise NotImplementedError(
            f"to_json does not support {given}: values are written as Polars writes them "
            "(dates as ISO text, floats exact, no indentation)."
        )
    if options:
        raise TypeError(
            f"to_json got unexpected keyword arguments {sorted(options)}: it takes pandas' "
            "to_json options lines, orient='records', compression, force_ascii=False, "
            "index=False, mode='w'."
        )
    return bool(lines), compression
