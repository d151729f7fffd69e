"""How the chunks of a line-based file parse: :class:`LineFormat` (JSON lines, CSV, text, with
the reader options) and the rows schema inference already parsed (:class:`Head`).

:mod:`crucible_polars.streaming.lines` infers a file's format from its first lines and reads
the file chunk by chunk; each chunk is parsed here, by Polars (``read_ndjson`` /
``read_csv``), or for JSON lines holding ``Json`` columns by Python's ``json`` (as the
non-streaming reader does).

Examples
--------
>>> fmt = LineFormat("json", pl.Schema({"a": pl.Int64}))
>>> fmt.parse("a.jsonl", b'{"a": 1}\\n{"a": 2}\\n', None, 1, True)["a"].to_list()
[1, 2]
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crucible_polars.errors import DataFileError
from crucible_polars.features import Features, Value
from crucible_polars.readers.compressed import (
    ndjson_error,
    parse_text_chunk,
    read_ndjson,
    strip_bom,
)
from crucible_polars.readers.json import frame_from_rows, json_features
from crucible_polars.readers.json_infer import parse_timestamps


@dataclass(frozen=True)
class Head:
    """The rows that schema inference parsed at the start of a file, kept so that reading
    the file does not parse them again: ``nbytes`` bytes, ``nlines`` newlines."""

    path: str
    nbytes: int
    nlines: int
    frame: pl.DataFrame


@dataclass(frozen=True)
class LineFormat:
    """How to parse the chunks of a line-based file: the kind, the schema, the reader options
    (CSV dialect and pandas options, text ``keep_linebreaks``), and for JSON lines the
    columns read as ``datasets`` reads them (``Json`` values, ISO timestamps)."""

    kind: str
    schema: pl.Schema
    separator: str = ","
    has_header: bool = True
    quote_char: str | None = '"'
    csv_options: dict[str, Any] = field(default_factory=dict)
    head: Head | None = field(default=None, compare=False, repr=False)
    skip_rows: int = 0
    comment: str | None = None
    max_rows: int | None = None
    keep_linebreaks: bool = False
    json_spots: dict[str, Any] = field(default_factory=dict)
    timestamps: tuple[str, ...] = ()

    def _projected(self, columns: Sequence[str] | None) -> pl.Schema:
        if columns is None:
            return self.schema
        wanted = set(columns)
        keep = [c for c in self.schema.names() if c in wanted] or self.schema.names()[:1]
        return pl.Schema({c: self.schema[c] for c in keep})

    def project(self, frame: pl.DataFrame, columns: Sequence[str] | None) -> pl.DataFrame:
        """``frame`` (rows of this format) with the columns a parse of ``columns`` gives."""
        return frame if columns is None else frame.select(self._projected(columns).names())

    def features(self) -> Features | None:
        """The features of JSON lines read with ``Json`` columns or timestamps (``None``
        when the schema says it all)."""
        if not self.json_spots and not self.timestamps:
            return None
        features = json_features(self.schema, self.json_spots)
        for name in self.timestamps:
            features[name] = Value("timestamp[s]")
        return features

    def parse(
        self, path: str, chunk: bytes, columns: Sequence[str] | None, line: int, at_start: bool
    ) -> pl.DataFrame:
        """Parse one chunk (``line``: the 1-based line it starts at) into a frame."""
        if self.kind == "text":
            frame = parse_text_chunk(path, chunk, line)
            if self.keep_linebreaks and frame.height:
                ends = chunk.endswith((b"\n", b"\r"))
                kept = frame["text"] + "\n"
                frame = pl.DataFrame(
                    {"text": kept if ends else pl.concat([kept[:-1], frame[-1:, 0]])}
                )
            return frame
        sub = self._projected(columns)
        if at_start:
            chunk = strip_bom(chunk, 1)
        if not chunk.strip():
            return pl.DataFrame(schema=sub)
        if self.kind == "json":
            return self._parse_json(path, chunk, sub, line)
        names = self.schema.names()
        try:
            return pl.read_csv(
                io.BytesIO(chunk),
                has_header=False,
                separator=self.separator,
                quote_char=self.quote_char,
                schema=self.schema,
                columns=[names.index(c) for c in sub.names()],
                **self.csv_options,
            )
        except pl.exceptions.PolarsError as exc:
            last = line + chunk.count(b"\n")
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise DataFileError(
                path,
                f"cannot parse the CSV records in lines {line}-{last} ({message}); if a "
                "column changes type, pass features=...",
            ) from None

    def _parse_json(self, path: str, chunk: bytes, sub: pl.Schema, line: int) -> pl.DataFrame:
        raw = pl.Schema({n: pl.String if n in self.timestamps else t for n, t in sub.items()})
        if self.json_spots:
            frame = conform(json_rows_frame(path, chunk, line, self.json_spots), raw)
        else:
            try:
                frame = read_ndjson(chunk, raw)
            except pl.exceptions.PolarsError as exc:
                raise ndjson_error(path, chunk, raw, line, exc) from None
        stamps = [c for c in self.timestamps if c in sub]
        return frame.with_columns(parse_timestamps(c) for c in stamps) if stamps else frame


def json_rows_frame(
    path: str, chunk: bytes, line: int, spots: Mapping[str, Any] | None
) -> pl.DataFrame:
    """JSON lines parsed in Python, the ``Json`` parts of columns (``spots``) as JSON text.

    Examples
    --------
    >>> json_rows_frame("a.jsonl", b'{"c": -1}\\n{"c": "x"}\\n', 1, {"c": True})["c"].to_list()
    ['-1', '"x"']
    """
    rows = []
    for number, text in enumerate(chunk.splitlines(), start=line):
        if not text.strip():
            continue
        try:
            rows.append(json.loads(text))
        except (ValueError, RecursionError) as err:
            raise DataFileError(path, f"invalid JSON ({err})", row=number) from None
    return frame_from_rows(rows, spots)


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns and types (absent columns as nulls).

    Examples
    --------
    >>> conform(pl.DataFrame({"b": [1]}), pl.Schema({"a": pl.String, "b": pl.Float64})).row(0)
    (None, 1.0)
    """
    return frame.select(
        pl.col(n).cast(t) if n in frame.columns else pl.lit(None, t).alias(n)
        for n, t in schema.items()
    )
