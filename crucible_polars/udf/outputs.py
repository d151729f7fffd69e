"""What a ``map``/``filter`` function returned, as Polars columns: one typing for both engines.

``datasets`` types a ``map`` output from its first batch (with pyarrow), and so do both
engines here: :func:`infer_output_schema` gives the schema and Features of the first
batch's output and :func:`conform_batch` checks every later batch against it (both in
:mod:`crucible_polars.udf.schema`, re-exported here). :class:`OutputBuilder`
turns one call's return value (a dict of columns, a Polars/pandas frame, a pyarrow Table,
or ``None``) into columns merged with the input's, and :func:`filter_mask` turns a
``filter`` function's answers into a boolean mask. A batch that does not fit raises
:class:`~crucible_polars.errors.FunctionOutputError` naming its rows, with the same text
in both engines.

Examples
--------
>>> from crucible_polars.udf.call import FunctionCall
>>> frame = pl.DataFrame({"a": [1, 2]})
>>> call = FunctionCall(lambda row: {"b": row["a"] * 2})
>>> rows, results = call.call_rows(frame, 0)
>>> builder = OutputBuilder(call)
>>> builder.merge(frame, 0, builder.from_rows(frame, 0, rows, results))["b"].to_list()
[2, 4]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import polars as pl
import pyarrow as pa

from crucible_polars.features import (
    Audio,
    Features,
    Image,
    List,
    feature_to_polars,
)
from crucible_polars.features.json_values import has_json
from crucible_polars.features.nested import FeatureType
from crucible_polars.udf.call import FunctionCall, GivenRows
from crucible_polars.udf.clips import HandedClips, audio_column
from crucible_polars.udf.edits import (
    Produced,
    batch_edits,
    deleted_columns,
    immutable_values,
    row_edits,
    same_height,
    unread,
)
from crucible_polars.udf.json_outputs import infer_json_column, json_typed_column
from crucible_polars.udf.lazy import LazyBatch, convert_column
from crucible_polars.udf.schema import cast_to_features, conform_batch, infer_output_schema
from crucible_polars.udf.values import is_pil_image, pil_lists, try_original, values_to_series

__all__ = ["OutputBuilder", "WholeTable", "conform_batch", "filter_mask", "infer_output_schema"]


class WholeTable(dict[str, pl.Series]):
    """The columns of a table the function returned (pyarrow, pandas, Polars): they replace
    the batch's columns instead of updating them, as in ``datasets``."""


class OutputBuilder:
    """Turns what the function returned for one batch into a frame of output columns.

    Parameters
    ----------
    call
        How the function was called (its input Features, and how errors name it).
    remove_columns
        Input columns dropped from the output (unless the function returns them).
    original_type
        ``try_original_type``: ``False`` re-types every value the function read and
        returned (no pass-through of unchanged values), as ``datasets`` does.
    features
        The ``features=`` of the map: every output column is cast to its feature as
        ``datasets`` writes it (label names to ids, paths, bytes, pixel arrays or PIL
        images to ``Image`` structs); a value that does not fit raises
        :class:`~crucible_polars.errors.FunctionOutputError` (a ``ValueError``) naming it.
    mixed_types
        ``on_mixed_types``: ``"use_json"`` (``datasets``' default for ``Dataset.map``) gives
        a column of values of no one type ``Json`` where they mix
        (:func:`~crucible_polars.udf.json_outputs.infer_json_column`); ``None`` refuses it.

    Attributes
    ----------
    media : dict
        The columns of PIL images (or lists of them) the function returned, with their
        feature (``Image()``, ``List(Image())``), as ``datasets`` infers them.
    json : dict
        The columns that got ``Json`` parts from their values (``mixed_types``), with their
        feature.
    output_features : Features or None
        The first batch's output Features once known (set by the engine): later batches'
        ``Json`` columns are encoded with them, and no longer inferred.

    Examples
    --------
    >>> from crucible_polars.udf.call import FunctionCall
    >>> frame = pl.DataFrame({"a": [1, 2]})
    >>> builder = OutputBuilder(FunctionCall(len, batched=True), remove_columns=["a"])
    >>> builder.merge(frame, 0, builder.from_batch(frame, 0, None, {"n": [3]})).to_dicts()
    [{'n': 3}]
    """

    def __init__(
        self,
        call: FunctionCall,
        remove_columns: Sequence[str] = (),
        original_type: bool = True,
        features: Features | None = None,
        mixed_types: str | None = "use_json",
    ) -> None:
        self.call = call
        self.mixed_types = mixed_types
        self.output_features: Features | None = None
        self.json: dict[str, FeatureType] = {}
        self.remove = set(remove_columns)
        self.original_type = original_type
        self.features = features
        self.untouched: set[str] = set()  # of the last batch: returned, never read
        self.media: dict[str, FeatureType] = {}

    def _in_place(
        self, frame: pl.DataFrame, name: str, values: list[Any], clips: HandedClips | None
    ) -> bool:
        """Whether the values read from input column ``name`` were edited in place (they
        are compared with the column converted again; clips by their checksums)."""
        feature = self.call.features.get(name)
        if immutable_values(frame.schema[name], feature):
            return False
        if isinstance(feature, Audio) and clips is not None:
            return any(v is not None and clips.source(v) is None for v in values)
        try:
            return bool(convert_column(frame, name, self.call.features) != values)
        except (ValueError, TypeError):  # values that do not compare (arrays)
            return True

    def _json_feature(self, name: str) -> FeatureType | None:
        """The feature holding ``Json`` that types column ``name``: ``features=``, else the
        first batch's output, else (``try_original_type``) the input column's."""
        for known in (self.features, self.output_features):
            if known is not None and name in known:
                return known[name] if has_json(known[name]) else None
        feature = self.call.features.get(name) if self.original_type else None
        return feature if feature is not None and has_json(feature) else None

    def _json_series(self, name: str, values: Any) -> pl.Series | None:
        """``values`` typed with the column's ``Json`` feature (see :meth:`_json_feature`),
        or ``None`` if the column has none or, tried as the input's type, they do not fit."""
        feature = self._json_feature(name)
        if feature is None:
            return None
        series = json_typed_column(name, values, feature)
        if series is None or (self.features is not None and name in self.features):
            return series  # features= given: cast (or refused) with the others
        dtype = feature_to_polars(feature)
        return series if series.dtype == dtype else try_original(series, dtype, feature)

    def _inferred_json(self, name: str) -> bool:
        """Whether column ``name`` may get ``Json`` from its values (``on_mixed_types``)."""
        if self.mixed_types != "use_json":
            return False
        return not any(k is not None and name in k for k in (self.features, self.output_features))

    def _audio_feature(self, name: str, values: Any, clips: HandedClips | None) -> Audio | None:
        """The ``Audio`` feature column ``name`` is encoded with: ``features=``, else the
        first batch's output, else (``try_original_type``) the input column's; else
        ``Audio()`` for a column of clips the function was handed (as ``datasets`` infers
        ``Audio`` from its decoders)."""
        for known in (self.features, self.output_features):
            if known is not None and name in known:
                stated = known[name]
                return stated if isinstance(stated, Audio) else None
        original = self.call.features.get(name) if self.original_type else None
        if isinstance(original, Audio):
            return original
        if clips is None or not clips.marks or not isinstance(values, list):
            return None
        present = [v for v in values if v is not None]
        return Audio() if present and all(clips.handed(v) for v in present) else None

    def _series(
        self, name: str, values: Any, offset: int, height: int, clips: HandedClips | None = None
    ) -> pl.Series:
        audio = self._audio_feature(name, values, clips)
        if audio is not None and isinstance(values, list):
            try:
                series = audio_column(name, values, audio, clips)
            except (TypeError, ValueError, KeyError, ImportError) as error:
                raise self.call.error(offset, height, f"column {name!r}: {error}", name) from None
            self.media[name] = audio
            return series
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise self.call.error(
                offset,
                height,
                f"column {name!r} is a {type(values).__name__}, not a list: a batched function "
                "returns one list (or array) of values per column",
                name,
            )
        if isinstance(values, list) and values:
            first = next((v for v in values if v is not None), None)
            if is_pil_image(first):
                self.media[name] = Image()
            elif pil_lists(values):
                self.media[name] = List(Image())
        json_series = self._json_series(name, values)
        if json_series is not None:
            return json_series
        try:
            series = values_to_series(name, values)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError) as error:
            inferred = infer_json_column(name, values) if self._inferred_json(name) else None
            if inferred is not None:
                self.json[name] = inferred[1]
                return inferred[0]
            raise self.call.error(
                offset,
                height,
                f"the values of column {name!r} do not have one type ({error}). "
                "Return values of one type per column, or pass features=...",
                name,
            ) from None
        if self._inferred_json(name) and isinstance(values, list):
            inferred = infer_json_column(name, values, series)
            if inferred is not None:
                self.json[name] = inferred[1]
                return inferred[0]
        return series

    def _passthrough(
        self, frame: pl.DataFrame, name: str, values: Any, given: list[Any] | None
    ) -> bool:
        """Whether output ``values`` are the input values handed out, unchanged."""
        if given is None or name not in frame.columns or not self.original_type:
            return False
        if not immutable_values(frame.schema[name], self.call.features.get(name)):
            return False
        if values is given:
            return True
        return (
            isinstance(values, list)
            and len(values) == len(given)
            and all(a is b for a, b in zip(values, given, strict=True))
        )

    def from_batch(
        self, frame: pl.DataFrame, offset: int, inputs: Any, output: Any
    ) -> dict[str, pl.Series] | None:
        """Output columns of a batched call (``None``: the function returned nothing)."""
        if output is None:
            return None
        height = frame.height
        if isinstance(output, pl.DataFrame):
            return WholeTable(zip(output.columns, output.get_columns(), strict=True))
        if isinstance(output, pa.Table):
            converted = pl.from_arrow(output)
            assert isinstance(converted, pl.DataFrame)
            return WholeTable(zip(converted.columns, converted.get_columns(), strict=True))
        if hasattr(output, "to_dict") and hasattr(output, "columns"):  # pandas
            names = [str(c) for c in output.columns]
            return WholeTable(
                (n, self._series(n, output[c].to_numpy(), offset, height))
                for n, c in zip(names, output.columns, strict=True)
            )
        if not isinstance(output, Mapping):
            raise self.call.error(
                offset,
                height,
                f"the function returned a {type(output).__name__}; it must return a dict of "
                "columns, a Polars or pandas DataFrame, a pyarrow Table, or None",
            )
        lazy = inputs if isinstance(inputs, LazyBatch) else None
        untouched = lazy.untouched() if lazy is not None and output is lazy else set()
        unread = lazy.unread() if lazy is not None and output is lazy else set()
        given = lazy.converted if lazy is not None else {}
        clips = HandedClips(frame, lazy.marks) if lazy is not None else None
        self.untouched = untouched
        columns = Produced()
        columns.dropped = frozenset(lazy.deleted) if lazy is not None else frozenset()
        names = list(output)
        if lazy is not None and output is not lazy and same_height(output, height):
            skip = set(names) | self.remove | lazy.deleted  # the batch as the function left it
            names = batch_edits(frame, lazy, skip, partial(self._in_place, clips=clips)) + names
            output = {**{k: lazy[k] for k in names if k not in output}, **output}
        for name in names:
            if lazy is not None and output is lazy and name in self.remove:
                continue  # the batch itself returned: remove_columns still apply
            if name in unread:
                continue  # left out of this query's reads: not asked for
            if name in untouched:
                columns[name] = frame[name]
                continue
            values = output[name]
            if self._passthrough(frame, name, values, given.get(name)):
                columns[name] = frame[name]
            else:
                columns[name] = self._series(name, values, offset, height, clips)
        lengths = {len(s) for s in columns.values()}
        if len(lengths) > 1:
            sizes = {name: len(s) for name, s in columns.items()}
            raise self.call.error(
                offset, height, f"the returned columns have different lengths: {sizes}"
            )
        return columns

    def from_rows(
        self, frame: pl.DataFrame, offset: int, rows: list[Any], outputs: list[Any]
    ) -> dict[str, pl.Series] | None:
        """Output columns of a row-wise call (``None``: the function returned nothing).

        A row returned itself (maybe edited in place) loses the ``remove_columns``; a value
        that is the one the row was given passes its input column through unconverted, and
        a column no row read nor set passes through unread. Input columns deleted from
        every row are dropped (:attr:`Produced.dropped`), as in ``datasets``.
        """
        if all(o is None for o in outputs):
            return None
        first = outputs[0]
        if not isinstance(first, Mapping):
            raise self.call.error(
                offset,
                1,
                f"the function returned a {type(first).__name__}; a row-wise function returns "
                "a dict of column values (or None)",
            )
        remove = self.remove

        def keys(out: Any, row: Any) -> Any:
            return [k for k in out if k not in remove] if remove and out is row else out

        names = list(keys(first, rows[0]))
        key_set = set(names)
        for i, (out, row) in enumerate(zip(outputs, rows, strict=True)):
            if type(out) is dict and not (remove and out is row):  # the common case, fast
                if out.keys() == key_set:
                    continue
            elif isinstance(out, Mapping) and set(keys(out, row)) == key_set:
                continue
            got = sorted(keys(out, row)) if isinstance(out, Mapping) else type(out).__name__
            raise self.call.error(
                offset + i,
                1,
                f"the function returned {got}, but {sorted(key_set)} for the first row "
                "of the batch; return the same keys for every row",
            )
        store = rows.store if isinstance(rows, GivenRows) else None
        given = rows.columns if isinstance(rows, GivenRows) else {}
        clips = HandedClips(frame, store.marks) if store is not None else None
        columns = Produced()
        columns.dropped = deleted_columns(rows, frame)
        returned = set(names)
        skip = returned | self.remove | columns.dropped
        edits: list[str] = []
        if store is not None:
            edits = row_edits(frame, rows, skip, partial(self._in_place, clips=clips))
        for name in [*edits, *names]:
            if store is not None and name in returned and unread(name, store, outputs):
                columns[name] = frame[name]
                continue
            sources = outputs if name in returned else rows
            values = [source[name] for source in sources]
            same = (
                name in frame.columns
                and name in given
                and immutable_values(frame.schema[name], self.call.features.get(name))
                and all(v is g for v, g in zip(values, given[name], strict=True))
            )
            columns[name] = (
                frame[name] if same else self._series(name, values, offset, len(rows), clips)
            )
        return columns

    def merge(
        self,
        frame: pl.DataFrame,
        offset: int,
        columns: dict[str, pl.Series],
        keeps_inputs: bool = False,
    ) -> pl.DataFrame:
        """Input columns (less the removed ones), updated and extended by the outputs.

        ``keeps_inputs``: the full input keeps columns even if this (projected) frame does
        not, so the number of rows must not change.
        """
        if isinstance(columns, WholeTable):
            return self._to_features(pl.DataFrame(list(columns.values())), offset, frame.height)
        gone = self.remove | getattr(columns, "dropped", frozenset())
        kept = [c for c in frame.columns if c not in gone and c not in columns]
        height = len(next(iter(columns.values()))) if columns else frame.height
        if (kept or keeps_inputs) and height != frame.height:
            raise self.call.error(
                offset,
                frame.height,
                f"the function returned {height} rows for a batch of {frame.height}, while "
                f"the input columns {kept} are kept. To change the number of rows, remove the "
                "input columns with remove_columns=...",
            )
        order = [c for c in frame.columns if c not in gone or c in columns]
        order += [c for c in columns if c not in order]
        if not columns:
            return self._to_features(frame.select(kept), offset, frame.height)
        data = {c: columns[c] if c in columns else frame[c] for c in order}
        return self._to_features(pl.DataFrame(data), offset, frame.height)

    def _to_features(self, out: pl.DataFrame, offset: int, height: int) -> pl.DataFrame:
        """``out`` cast to ``features=`` when given (:func:`cast_to_features`)."""
        if self.features is None:
            return out
        return cast_to_features(out, self.features, self.call, offset, height)


def filter_mask(call: FunctionCall, frame: pl.DataFrame, offset: int) -> pl.Series:
    """Which rows of ``frame`` a ``filter`` function keeps (truthy answers), as a mask.

    Parameters
    ----------
    call
        The filter function's call (batched: one answer per row of the batch).
    frame
        The rows.
    offset
        The position of the first row.

    Raises
    ------
    FunctionOutputError
        A batched function that returns something other than one value per row.

    Examples
    --------
    >>> from crucible_polars.udf.call import FunctionCall
    >>> call = FunctionCall(lambda b: [x > 1 for x in b["a"]], batched=True)
    >>> filter_mask(call, pl.DataFrame({"a": [1, 2]}), 0).to_list()
    [False, True]
    """
    if not call.batched:
        _, answers = call.call_rows(frame, offset)
        return pl.Series([bool(v) for v in answers], dtype=pl.Boolean)
    _, mask = call.call_batch(frame, offset)
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        mask = mask.to_pylist()
    if isinstance(mask, (str, bytes)) or not hasattr(mask, "__len__"):
        raise call.error(
            offset,
            frame.height,
            f"a batched filter function returns one bool per row, got a {type(mask).__name__}",
        )
    if len(mask) != frame.height:
        raise call.error(
            offset,
            frame.height,
            f"the function returned {len(mask)} values for a batch of {frame.height} rows; "
            "return one bool per row",
        )
    return pl.Series([bool(v) for v in mask], dtype=pl.Boolean)
