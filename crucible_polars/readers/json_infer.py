"""What ``datasets``' JSON reader (pyarrow) infers that Polars does not: timestamps and Json.

pyarrow reads an ISO 8601 string column (``"2025-06-01"``, ``"2025-06-01T10:30:00"``, with an
optional ``Z`` or ``+hhmm`` offset, converted to UTC) as ``timestamp[s]``; ``datasets`` 5 reads a
column mixing JSON types (``-1`` then ``"foo"``) with its ``Json`` feature, keeping each value
(Polars would turn them all into strings). Both are decided here from a sample of rows
(the first ``INFER_SCHEMA_ROWS``), as the readers decide types from their first block; a later
value that does not fit fails at collect time, naming the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?(Z|[+-]\d{2}:?\d{2})?"
)
"""The strings pyarrow's JSON reader infers as ``timestamp[s]``."""


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


def column_kinds(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The JSON kinds seen in each top-level field of ``rows`` (nulls ignored).

    Examples
    --------
    >>> sorted(column_kinds([{"a": 1, "d": "2025-06-01"}, {"a": "x", "d": None}])["a"])
    ['number', 'string']
    >>> column_kinds([{"d": "2025-06-01"}])["d"]
    {'timestamp'}
    """
    kinds: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            seen = kinds.setdefault(key, set())
            kind = _kind(value)
            if kind is not None:
                seen.add(kind)
    return kinds


def json_columns(kinds: Mapping[str, set[str]]) -> list[str]:
    """Columns mixing kinds that no one Arrow type holds (``datasets``' ``Json`` feature).

    Examples
    --------
    >>> json_columns({"a": {"number", "string"}, "b": {"string", "timestamp"}, "c": {"bool"}})
    ['a']
    """
    out = []
    for name, seen in kinds.items():
        folded = {"string" if k == "timestamp" else k for k in seen}
        if len(folded) > 1:
            out.append(name)
    return out


def timestamp_columns(kinds: Mapping[str, set[str]]) -> list[str]:
    """Columns whose every sampled value is an ISO 8601 timestamp.

    Examples
    --------
    >>> timestamp_columns({"a": {"timestamp"}, "b": {"timestamp", "string"}})
    ['a']
    """
    return [name for name, seen in kinds.items() if seen == {"timestamp"}]


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


def to_json_text(value: Any) -> str | None:
    """One value as the JSON text a ``Json`` column stores (``None`` stays null).

    Examples
    --------
    >>> to_json_text("foo"), to_json_text(-1), to_json_text(None)
    ('"foo"', '-1', None)
    """
    return None if value is None else json.dumps(value, ensure_ascii=False)
