"""What ``datasets``' JSON reader (pyarrow) infers that Polars does not: timestamps and Json.

pyarrow reads an ISO 8601 string column (``"2025-06-01"``, ``"2025-06-01T10:30:00"``, with an
optional ``Z`` or ``+hhmm`` offset, converted to UTC) as ``timestamp[s]``; ``datasets`` 5 reads a
column mixing JSON types (``-1`` then ``"foo"``) with its ``Json`` feature, keeping each value
(Polars would turn them all into strings), at the top of a column or nested (``List(Json())``,
``{"k": Json()}``). Both are decided here from a sample of rows
(the first ``INFER_SCHEMA_ROWS``), as the readers decide types from their first block; a later
value that does not fit fails at collect time, naming the file.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from crucible_polars.features import FeatureType, Json, LargeList, List
from crucible_polars.features.json_values import json_text

TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?(Z|[+-]\d{2}:?\d{2})?"
)
"""The strings pyarrow's JSON reader infers as ``timestamp[s]``."""


_NUMBERS = frozenset({int, float, type(None)})
_STRINGS = frozenset({str, type(None)})
_BOOLS = frozenset({bool, type(None)})


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "timestamp" if TIMESTAMP.fullmatch(value) else "string"
    return "list" if isinstance(value, list) else "object"


class Kinds:
    """The JSON kinds seen at one place of a column (nulls ignored): ``seen``, and below it
    the kinds of list items (``items``) and of object fields (``fields``).

    Examples
    --------
    >>> k = Kinds()
    >>> for v in ([1, "x"], [2]):
    ...     k.add(v)
    >>> sorted(k.seen), sorted(k.items.seen)
    (['list'], ['number', 'string'])
    """

    __slots__ = ("fields", "items", "seen")

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.items: Kinds | None = None
        self.fields: dict[str, Kinds] = {}

    def add(self, value: Any, top: bool = True) -> None:
        """Record one value (``top``: a column's own value, where timestamps are told apart)."""
        kind = _kind(value)
        if kind is None:
            return
        self.seen.add("string" if kind == "timestamp" and not top else kind)
        if kind == "list":
            items = self.items = self.items or Kinds()
            types = set(map(type, value))  # fast paths: flat lists of one kind
            if types <= _NUMBERS:
                if types - {type(None)}:
                    items.seen.add("number")
            elif types <= _STRINGS:
                items.seen.add("string")
            elif types <= _BOOLS:
                items.seen.add("bool")
            else:
                for item in value:
                    items.add(item, top=False)
        elif kind == "object":
            for key, item in value.items():
                self.fields.setdefault(key, Kinds()).add(item, top=False)

    def json_spot(self) -> JsonSpot | None:
        """Where ``Json`` goes in this column (see :data:`JsonSpot`), ``None`` if nowhere."""
        folded = {"string" if k == "timestamp" else k for k in self.seen}
        if len(folded) > 1:
            return True
        if folded == {"list"} and self.items is not None:
            inner = self.items.json_spot()
            return None if inner is None else [inner]
        if folded == {"object"}:
            spots = {k: spot for k, f in self.fields.items() if (spot := f.json_spot()) is not None}
            return spots or None
        return None


JsonSpot = bool | dict[str, "JsonSpot"] | list["JsonSpot"]
"""Where a column holds ``Json`` values: ``True`` (the value itself), ``{field: spot}`` (in
those struct fields) or ``[spot]`` (in the list's items)."""


def column_kinds(rows: Iterable[Mapping[str, Any]]) -> dict[str, Kinds]:
    """The JSON kinds seen in each top-level field of ``rows`` (nulls ignored).

    Examples
    --------
    >>> sorted(column_kinds([{"a": 1, "d": "2025-06-01"}, {"a": "x", "d": None}])["a"].seen)
    ['number', 'string']
    >>> column_kinds([{"d": "2025-06-01"}])["d"].seen
    {'timestamp'}
    """
    kinds: dict[str, Kinds] = {}
    for row in rows:
        for key, value in row.items():
            seen = kinds.get(key)
            if seen is None:
                seen = kinds[key] = Kinds()
            seen.add(value)
    return kinds


def json_columns(kinds: Mapping[str, Kinds]) -> dict[str, JsonSpot]:
    """Columns holding values that no one Arrow type holds (``datasets``' ``Json`` feature),
    at the top or nested, with where (:data:`JsonSpot`).

    Examples
    --------
    >>> json_columns(column_kinds([{"a": 1, "b": [1], "c": {"k": 1}}, {"a": "x", "b": ["y"]}]))
    {'a': True, 'b': [True]}
    """
    out: dict[str, JsonSpot] = {}
    for name, seen in kinds.items():
        spot = seen.json_spot()
        if spot is not None:
            out[name] = spot
    return out


def merge_spots(a: JsonSpot | None, b: JsonSpot | None) -> JsonSpot | None:
    """Both places, as one spot (where they disagree, the value itself is ``Json``).

    Examples
    --------
    >>> merge_spots({"k": True}, {"j": [True]}), merge_spots([True], {"k": True})
    ({'k': True, 'j': [True]}, True)
    """
    if a is None or b is None:
        return a if b is None else b
    if a is True or b is True:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, spot in b.items():
            merged[key] = merge_spots(merged.get(key), spot)  # type: ignore[assignment]
        return merged
    if isinstance(a, list) and isinstance(b, list):
        return [merge_spots(a[0], b[0])]  # type: ignore[list-item]
    return True


def encode_spot(value: Any, spot: JsonSpot) -> Any:
    """``value`` with its ``Json`` parts (at ``spot``) as JSON text.

    Examples
    --------
    >>> encode_spot({"k": [1, 2], "n": 1}, {"k": True}), encode_spot(["a", 1], [True])
    ({'k': '[1,2]', 'n': 1}, ['"a"', '1'])
    """
    if spot is True:
        return json_text(value)
    if value is None:
        return None
    if isinstance(spot, dict) and isinstance(value, dict):
        return {k: encode_spot(v, spot[k]) if k in spot else v for k, v in value.items()}
    if isinstance(spot, list) and isinstance(value, list):
        return [encode_spot(v, spot[0]) for v in value]
    return json_text(value)  # not the shape the sample showed: kept whole, as JSON


def feature_with_spot(feature: FeatureType, spot: JsonSpot) -> FeatureType:
    """``feature`` (as inferred from the JSON text's column) with ``Json`` at ``spot``.

    Examples
    --------
    >>> from crucible_polars.features import List, Value
    >>> feature_with_spot({"k": List(Value("string")), "n": Value("int64")}, {"k": [True]})
    {'k': List(Json(decode=True)), 'n': Value('int64')}
    """
    if spot is True:
        return Json()
    if isinstance(spot, dict) and isinstance(feature, dict):
        return {k: feature_with_spot(f, spot[k]) if k in spot else f for k, f in feature.items()}
    if isinstance(spot, list) and isinstance(feature, (List, LargeList)):
        return type(feature)(feature_with_spot(feature.feature, spot[0]))
    return feature


def timestamp_columns(kinds: Mapping[str, Kinds]) -> list[str]:
    """Columns whose every sampled value is an ISO 8601 timestamp.

    Examples
    --------
    >>> timestamp_columns(column_kinds([{"a": "2025-06-01", "b": "2025-06-01"}, {"b": "x"}]))
    ['a']
    """
    return [name for name, seen in kinds.items() if seen.seen == {"timestamp"}]


def parse_timestamps(column: str) -> pl.Expr:
    """Parse ISO 8601 text as pyarrow does: naive, offsets converted to UTC, seconds.

    Examples
    --------
    >>> df = pl.DataFrame({"d": ["2025-06-01", "2025-06-01 10:30", "2025-06-01T12:00:00+0200"]})
    >>> df.select(parse_timestamps("d"))["d"].dt.to_string("%Y-%m-%d %H:%M").to_list()
    ['2025-06-01 00:00', '2025-06-01 10:30', '2025-06-01 10:00']
    """
    parts = pl.col(column).str.extract_groups(f"^{TIMESTAMP.pattern}$")
    field = parts.struct.field
    normalized = pl.concat_str(
        field("1"),
        pl.lit("T"),
        field("2").fill_null("00"),
        pl.lit(":"),
        field("3").fill_null("00"),
        pl.lit(":"),
        field("4").fill_null("00"),
        field("5").str.replace("Z", "+0000").fill_null("+0000"),
    )
    text = pl.when(field("1").is_not_null()).then(normalized).otherwise(pl.col(column))
    parsed = text.str.strptime(pl.Datetime("ms", "UTC"), "%Y-%m-%dT%H:%M:%S%z", strict=True)
    return parsed.dt.replace_time_zone(None).alias(column)


@dataclass
class HeadTypes:
    """What the first lines of one JSON lines file say beyond Polars' types: where ``Json``
    goes (``spots``), the ISO timestamp columns (``stamps``) and the columns holding any
    value (``seen``: a column all null in one file does not stop another's timestamps)."""

    spots: dict[str, JsonSpot] = field(default_factory=dict)
    stamps: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    @classmethod
    def from_kinds(cls, kinds: Mapping[str, Kinds]) -> HeadTypes:
        """From the kinds seen in parsed rows (:func:`column_kinds`)."""
        seen = {name for name, k in kinds.items() if k.seen}
        return cls(json_columns(kinds), set(timestamp_columns(kinds)), seen)


def _has_string(dtype: Any) -> bool:
    if isinstance(dtype, (pl.List, pl.Array)):
        return _has_string(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(_has_string(f.dtype) for f in dtype.fields)
    return dtype == pl.String


def head_types(head: bytes, frame: pl.DataFrame | None) -> HeadTypes:
    """The :class:`HeadTypes` of JSON lines ``head`` (whole lines, no byte-order mark) as
    :func:`column_kinds` finds them from every parsed line, without parsing in Python unless
    a column mixes types: ``frame`` is ``head`` as Polars parsed it (``None`` if it failed).

    Polars reads a column mixing types as strings (or fails); without a string anywhere no
    column mixes types. pyarrow's JSON reader (``datasets``') fails on a column mixing
    types: when it reads the lines, only timestamps are left to find, in Polars.

    Examples
    --------
    >>> data = b'{"c": 1, "d": "2025-06-01"}\\n{"c": "x", "d": null}\\n'
    >>> types = head_types(data, pl.read_ndjson(io.BytesIO(data)))
    >>> types.spots, types.stamps, sorted(types.seen)
    ({'c': True}, {'d'}, ['c', 'd'])
    >>> head_types(b'{"d": "2025-06-01"}\\n', pl.DataFrame({"d": ["2025-06-01"]})).stamps
    {'d'}
    """
    if frame is not None:
        seen = {c for c in frame.columns if frame[c].null_count() < frame.height}
        if not any(_has_string(t) for t in frame.schema.values()):
            return HeadTypes(seen=seen)
        options = pa_json.ReadOptions(block_size=min(max(len(head), 1 << 20), 1 << 30))
        try:
            pa_json.read_json(io.BytesIO(head), read_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # a column mixes types (or pyarrow cannot tell): look at every value
        else:
            pattern = f"^(?:{TIMESTAMP.pattern})$"
            stamps = {
                c
                for c in seen
                if frame.schema[c] == pl.String
                and bool(frame[c].drop_nulls().str.contains(pattern).all())
            }
            return HeadTypes(stamps=stamps, seen=seen)
    rows = []
    for text in head.splitlines():
        try:
            value = json.loads(text) if text.strip() else None
        except (ValueError, RecursionError):
            continue  # the scan names the line
        if isinstance(value, dict):
            rows.append(value)
    return HeadTypes.from_kinds(column_kinds(rows))
