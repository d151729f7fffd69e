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
from typing import Any

import polars as pl
import pyarrow as pa

from crucible_polars.errors import FeatureCastError, FeatureTypeError
from crucible_polars.features import (
    ClassLabel,
    Features,
    Image,
    LargeList,
    List,
    cast_lazyframe,
    feature_to_polars,
    find_cast_error,
)
from crucible_polars.features.json_values import has_json
from crucible_polars.features.nested import FeatureType
from crucible_polars.udf.call import FunctionCall, GivenRows, LazyBatch
from crucible_polars.udf.json_outputs import infer_json_column, json_typed_column
from crucible_polars.udf.schema import conform_batch, infer_output_schema
from crucible_polars.udf.values import is_pil_image, pil_lists, try_original, values_to_series

__all__ = ["OutputBuilder", "WholeTable", "conform_batch", "filter_mask", "infer_output_schema"]

_PASSTHROUGH_SAFE = (pl.String, pl.Binary, pl.Boolean, pl.Null)


def _immutable_values(dtype: pl.DataType, feature: Any) -> bool:
    """Whether Python values of this column cannot be changed in place (scalars, images)."""
    if feature is not None and has_json(feature):
        return False  # decoded JSON (lists, dicts) may be edited in place
    return (
        isinstance(feature, Image)
        or dtype.is_numeric()
        or dtype.is_temporal()
        or isinstance(dtype, _PASSTHROUGH_SAFE)
    )


def _has_labels(feature: Any) -> bool:
    """Whether ``feature`` holds a ``ClassLabel`` (its ids are range-checked by a cast)."""
    if isinstance(feature, dict):
        return any(_has_labels(f) for f in feature.values())
    if isinstance(feature, (List, LargeList)):
        return _has_labels(feature.feature)
    return isinstance(feature, ClassLabel)


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

    def _series(self, name: str, values: Any, offset: int, height: int) -> pl.Series:
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
        if not _immutable_values(frame.schema[name], self.call.features.get(name)):
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
        self.untouched = untouched
        columns: dict[str, pl.Series] = {}
        for name in output:
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
                columns[name] = self._series(name, values, offset, height)
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
        that is the one the row was given passes its input column through unconverted.
        """
        if all(o is None for o in outputs):
            return None
        if self.remove:
            outputs = [
                {k: v for k, v in out.items() if k not in self.remove} if out is row else out
                for out, row in zip(outputs, rows, strict=True)
            ]
        first = outputs[0]
        if not isinstance(first, Mapping):
            raise self.call.error(
                offset,
                1,
                f"the function returned a {type(first).__name__}; a row-wise function returns "
                "a dict of column values (or None)",
            )
        names = list(first)
        key_set = set(names)
        for i, out in enumerate(outputs):
            if not isinstance(out, Mapping) or set(out) != key_set:
                got = sorted(out) if isinstance(out, Mapping) else type(out).__name__
                raise self.call.error(
                    offset + i,
                    1,
                    f"the function returned {got}, but {sorted(key_set)} for the first row "
                    "of the batch; return the same keys for every row",
                )
        given = rows.columns if isinstance(rows, GivenRows) else {}
        columns: dict[str, pl.Series] = {}
        for name in names:
            values = [out[name] for out in outputs]
            same = (
                name in frame.columns
                and name in given
                and _immutable_values(frame.schema[name], self.call.features.get(name))
                and all(v is g for v, g in zip(values, given[name], strict=True))
            )
            columns[name] = frame[name] if same else self._series(name, values, offset, len(rows))
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
        kept = [c for c in frame.columns if c not in self.remove and c not in columns]
        height = len(next(iter(columns.values()))) if columns else frame.height
        if (kept or keeps_inputs) and height != frame.height:
            raise self.call.error(
                offset,
                frame.height,
                f"the function returned {height} rows for a batch of {frame.height}, while "
                f"the input columns {kept} are kept. To change the number of rows, remove the "
                "input columns with remove_columns=...",
            )
        order = [c for c in frame.columns if c not in self.remove or c in columns]
        order += [c for c in columns if c not in order]
        if not columns:
            return self._to_features(frame.select(kept), offset, frame.height)
        data = {c: columns[c] if c in columns else frame[c] for c in order}
        return self._to_features(pl.DataFrame(data), offset, frame.height)

    def _to_features(self, out: pl.DataFrame, offset: int, height: int) -> pl.DataFrame:
        """``out`` with its columns cast to ``features=`` (when given), as ``datasets``
        writes a map's output with them; a value that does not fit names its row."""
        if self.features is None:
            return out
        features = self.features
        target = {  # a column already of its type needs no cast (labels are checked)
            c: features[c]
            for c in out.columns
            if c in features
            and (out.schema[c] != feature_to_polars(features[c]) or _has_labels(features[c]))
        }
        if not target:
            return out
        given = out.select(list(target))
        try:
            cast = cast_lazyframe(given.lazy(), target).collect()
        except (FeatureCastError, pl.exceptions.PolarsError) as error:
            found = error if isinstance(error, FeatureCastError) else None
            found = found or find_cast_error(given.lazy(), target)
            if found is None:
                raise
            if isinstance(found, FeatureTypeError):  # a TypeError, as in datasets
                raise found from None
            where = offset + found.row if found.row is not None else offset
            reason = (
                f"value {found.value!r} of column {found.column!r} does not fit "
                f"{found.feature} (the features= given); return values that fit, or change "
                "the features"
            )
            raise self.call.error(
                where, 1 if found.row is not None else height, reason, found.column
            ) from None
        return out.with_columns(cast.get_columns())


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
