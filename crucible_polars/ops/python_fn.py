"""Python functions over a dataset: ``map`` and ``filter`` with callables, run lazily by batch.

The function runs inside the Polars plan, in a Python IO source
(:func:`polars.io.plugins.register_io_source`) that reads the input plan in exact batches
(``batch_size`` rows, the last one smaller), calls the function once per batch
(``batched=True``) or once per row of the batch, and yields one output frame per batch.
Nothing runs until an output method asks for rows; a later ``take``/``head`` stops the
source early, and columns that the function does not produce are passed through as Polars
columns, never converted to Python.

``map`` needs its output schema before it runs: with ``features=`` that is the schema;
otherwise the function runs once on the first batch and the schema (and Features) are
inferred from its output, as ``datasets`` infers them from the first batch it writes.
Input columns whose type is unchanged keep their Features (a ``ClassLabel`` stays one).
Later batches must give the same columns and types; a batch that does not raises
:class:`~crucible_polars.errors.FunctionOutputError` naming the rows of the batch.

Examples
--------
>>> from crucible_polars.plan import Plan
>>> plan = Plan.from_frame(pl.DataFrame({"text": ["a", "bb", "ccc"]}))
>>> map_with_function(plan, lambda row: {"n": len(row["text"])}).collect()["n"].to_list()
[1, 2, 3]
>>> out = filter_with_function(plan, lambda b: [len(t) > 1 for t in b["text"]], batched=True)
>>> out.collect()["text"].to_list()
['bb', 'ccc']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
from polars.io.plugins import register_io_source

from crucible_polars.errors import FunctionOutputError
from crucible_polars.features import Features, Image, cast_lazyframe, feature_to_polars
from crucible_polars.formatting import format_batch, format_row, to_python_columns, to_python_rows
from crucible_polars.ops.columns import remove_columns
from crucible_polars.ops.fn_values import conform, values_to_series

if TYPE_CHECKING:
    from crucible_polars.plan import Plan

IGNORED_OPTIONS = frozenset(
    {
        "desc", "num_proc", "load_from_cache_file", "keep_in_memory", "cache_file_name",
        "writer_batch_size", "new_fingerprint", "suffix_template", "disable_nullable",
    }
)  # fmt: skip
"""``datasets`` options about its cache and processes; accepted and ignored (nothing to cache)."""

ROW_CHUNK = 1000
"""Rows per batch when a row-wise function runs (one Polars frame per chunk)."""


def check_options(options: Mapping[str, Any], method: str) -> None:
    """Refuse unknown keyword arguments, accept the ``datasets`` cache/process options.

    Examples
    --------
    >>> check_options({"desc": "tokenize"}, "map")
    >>> check_options({"colour": 1}, "map")
    Traceback (most recent call last):
    TypeError: map() got unexpected keyword arguments ['colour']
    """
    unknown = sorted(set(options) - IGNORED_OPTIONS)
    if unknown:
        raise TypeError(f"{method}() got unexpected keyword arguments {unknown}")


# ---------------------------------------------------------------------------------- inputs
class LazyBatch(MutableMapping[str, Any]):
    """A batch as ``{column: list}`` whose columns become Python lists on first access.

    Like ``datasets``' ``LazyBatch``: a function that reads one column of a wide batch
    pays for that column only, and the columns it never touches go back to the plan as
    they were.

    Examples
    --------
    >>> from crucible_polars.features import Features, Value
    >>> frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    >>> batch = LazyBatch(frame, Features({"a": Value("int64"), "b": Value("string")}))
    >>> batch["a"], sorted(batch.untouched())
    ([1, 2], ['b'])
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        features: Features,
        first_row: int = 0,
        columns: Sequence[str] | None = None,
        fetch: Callable[[str], pl.Series] | None = None,
    ) -> None:
        self.frame = frame
        self._features = features
        self._first_row = first_row
        self._keys: list[str] = list(frame.columns if columns is None else columns)
        self._fetch = fetch  # reads a column of this batch that ``frame`` left out
        self._values: dict[str, Any] = {}
        self.converted: dict[str, list[Any]] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        if key not in self._keys:
            raise KeyError(key)
        features = Features({key: self._features[key]}) if key in self._features else Features()
        if key in self.frame.columns or self._fetch is None:
            column = self.frame.select(key)
        else:
            column = self._fetch(key).to_frame(key)
        value = to_python_columns(column, features, self._first_row)[key]
        self._values[key] = value
        self.converted[key] = value
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = value
        if key not in self._keys:
            self._keys.append(key)

    def __delitem__(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(key)
        self._keys.remove(key)
        self._values.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return repr({k: self[k] for k in self._keys})

    def untouched(self) -> set[str]:
        """Input columns never read nor assigned: passed through without conversion."""
        return {k for k in self._keys if k not in self._values and k in self.frame.columns}

    def unread(self) -> set[str]:
        """Input columns left out of this batch's frame (not asked for) and never read."""
        return {k for k in self._keys if k not in self._values and k not in self.frame.columns}


class _Caller:
    """How to call the user function on a batch frame: formatting, arguments, indices."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        batched: bool,
        with_indices: bool,
        input_columns: list[str] | None,
        fn_kwargs: Mapping[str, Any] | None,
        fmt: str,
        features: Features,
        what: str,
    ) -> None:
        self.function = function
        self.batched = batched
        self.with_indices = with_indices
        self.input_columns = input_columns
        self.fn_kwargs = dict(fn_kwargs or {})
        self.fmt = fmt
        self.features = features
        self.what = what

    @classmethod
    def for_dataset(
        cls,
        ds: Plan,
        fmt: str | None,
        method: str,
        function: Callable[..., Any],
        batched: bool,
        batch_size: int | None,
        with_indices: bool,
        input_columns: str | Sequence[str] | None,
        fn_kwargs: Mapping[str, Any] | None,
    ) -> tuple[_Caller, int]:
        """The caller for ``ds.<method>(function, ...)`` and the rows per batch to run."""
        inputs = ds.check_columns(input_columns) if input_columns is not None else None
        caller = cls(
            function,
            batched=batched,
            with_indices=with_indices,
            input_columns=inputs,
            fn_kwargs=fn_kwargs,
            fmt=fmt,
            features=ds.features,
            what=describe_function(method, function),
        )
        if not batched:
            return caller, ROW_CHUNK
        return caller, int(batch_size) if batch_size and batch_size > 0 else max(ds.row_count(), 1)

    def _args(self, inputs: Any, index: Any) -> tuple[Any, ...]:
        if self.input_columns is None:
            args: tuple[Any, ...] = (inputs,)
        else:
            args = tuple(inputs[c] for c in self.input_columns)
        return (*args, index) if self.with_indices else args

    def call_batch(
        self,
        frame: pl.DataFrame,
        offset: int,
        columns: Sequence[str] | None = None,
        fetch: Callable[[str], pl.Series] | None = None,
    ) -> tuple[Any, Any]:
        """Call a batched function; returns ``(inputs, output)``.

        ``columns``/``fetch``: the batch's full column names when ``frame`` holds only some,
        and how to read one of the others (see :class:`LazyBatch`).
        """
        view = frame if self.input_columns is None else frame.select(self.input_columns)
        if self.fmt == "python":
            inputs: Any = LazyBatch(view, self.features, offset, columns, fetch)
        else:
            inputs = format_batch(view, self.features, self.fmt, offset)
        indices = list(range(offset, offset + frame.height))
        return inputs, self.function(*self._args(inputs, indices), **self.fn_kwargs)

    def call_rows(self, frame: pl.DataFrame, offset: int) -> tuple[list[Any], list[Any]]:
        """Call a row-wise function on every row; returns ``(rows, outputs)``."""
        view = frame if self.input_columns is None else frame.select(self.input_columns)
        if self.fmt == "python":
            rows: list[Any] = to_python_rows(view, self.features, offset)
        else:
            rows = [
                format_row(view.slice(i, 1), self.features, self.fmt, offset + i)
                for i in range(view.height)
            ]
        function, kwargs = self.function, self.fn_kwargs
        outputs = [function(*self._args(row, offset + i), **kwargs) for i, row in enumerate(rows)]
        return rows, outputs

    def error(self, offset: int, height: int, reason: str, column: str | None = None) -> Exception:
        return FunctionOutputError(self.what, offset, offset + max(height, 1), reason, column)


def describe_function(method: str, function: Callable[..., Any]) -> str:
    """``"map(tokenize)"``: how errors name the function.

    Examples
    --------
    >>> describe_function("map", len)
    'map(len)'
    """
    name = getattr(function, "__name__", None) or type(function).__name__
    return f"{method}({name})"


# --------------------------------------------------------------------------------- outputs
_PASSTHROUGH_SAFE = (pl.String, pl.Binary, pl.Boolean, pl.Null)


def _immutable_values(dtype: pl.DataType, feature: Any) -> bool:
    """Whether Python values of this column cannot be changed in place (scalars, images)."""
    return (
        isinstance(feature, Image)
        or dtype.is_numeric()
        or dtype.is_temporal()
        or isinstance(dtype, _PASSTHROUGH_SAFE)
    )


class _Outputs:
    """Turns what the function returned for one batch into a frame of output columns."""

    def __init__(self, caller: _Caller, remove_columns: Sequence[str]) -> None:
        self.caller = caller
        self.remove = set(remove_columns)

    def _series(self, name: str, values: Any, offset: int, height: int) -> pl.Series:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise self.caller.error(
                offset,
                height,
                f"column {name!r} is a {type(values).__name__}, not a list: a batched function "
                "returns one list (or array) of values per column",
                name,
            )
        try:
            return values_to_series(name, values)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError) as error:
            raise self.caller.error(
                offset,
                height,
                f"the values of column {name!r} do not have one type ({error}). "
                "Return values of one type per column, or pass features=...",
                name,
            ) from None

    def _passthrough(
        self, frame: pl.DataFrame, name: str, values: Any, given: list[Any] | None
    ) -> bool:
        """Whether output ``values`` are the input values handed out, unchanged."""
        if given is None or name not in frame.columns:
            return False
        if not _immutable_values(frame.schema[name], self.caller.features.get(name)):
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
            return dict(zip(output.columns, output.get_columns(), strict=True))
        if isinstance(output, pa.Table):
            converted = pl.from_arrow(output)
            assert isinstance(converted, pl.DataFrame)
            return dict(zip(converted.columns, converted.get_columns(), strict=True))
        if hasattr(output, "to_dict") and hasattr(output, "columns"):  # pandas
            output = {str(c): output[c].to_numpy() for c in output.columns}
        if not isinstance(output, Mapping):
            raise self.caller.error(
                offset,
                height,
                f"the function returned a {type(output).__name__}; it must return a dict of "
                "columns, a Polars or pandas DataFrame, a pyarrow Table, or None",
            )
        lazy = inputs if isinstance(inputs, LazyBatch) else None
        untouched = lazy.untouched() if lazy is not None and output is lazy else set()
        unread = lazy.unread() if lazy is not None and output is lazy else set()
        given = lazy.converted if lazy is not None else {}
        columns: dict[str, pl.Series] = {}
        for name in output:
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
            raise self.caller.error(
                offset, height, f"the returned columns have different lengths: {sizes}"
            )
        return columns

    def from_rows(
        self, frame: pl.DataFrame, offset: int, rows: list[Any], outputs: list[Any]
    ) -> dict[str, pl.Series] | None:
        """Output columns of a row-wise call (``None``: the function returned nothing)."""
        if all(o is None for o in outputs):
            return None
        first = outputs[0]
        if not isinstance(first, Mapping):
            raise self.caller.error(
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
                raise self.caller.error(
                    offset + i,
                    1,
                    f"the function returned {got}, but {sorted(key_set)} for the first row "
                    "of the batch; return the same keys for every row",
                )
        columns: dict[str, pl.Series] = {}
        for name in names:
            values = [out[name] for out in outputs]
            same = (
                name in frame.columns
                and isinstance(rows[0], Mapping)
                and _immutable_values(frame.schema[name], self.caller.features.get(name))
                and all(v is row.get(name) for v, row in zip(values, rows, strict=True))
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
        kept = [c for c in frame.columns if c not in self.remove and c not in columns]
        height = len(next(iter(columns.values()))) if columns else frame.height
        if (kept or keeps_inputs) and height != frame.height:
            raise self.caller.error(
                offset,
                frame.height,
                f"the function returned {height} rows for a batch of {frame.height}, while "
                f"the input columns {kept} are kept. To change the number of rows, remove the "
                "input columns with remove_columns=...",
            )
        order = [c for c in frame.columns if c not in self.remove or c in columns]
        order += [c for c in columns if c not in order]
        if not columns:
            return frame.select(kept)
        data = {c: columns[c] if c in columns else frame[c] for c in order}
        return pl.DataFrame(data)


def _conform_frame(
    out: pl.DataFrame,
    schema: pl.Schema,
    features: Features,
    caller: _Caller,
    offset: int,
    height: int,
    wanted: list[str] | None = None,
) -> pl.DataFrame:
    """Check a batch's output against the schema from the first batch; cast where it fits.

    ``wanted``: only these output columns were asked for (projection).
    """
    if wanted is not None:
        schema = pl.Schema({c: schema[c] for c in wanted})
        out = out.select([c for c in wanted if c in out.columns])
    if out.columns != schema.names():
        missing = [c for c in schema.names() if c not in out.columns]
        extra = [c for c in out.columns if c not in schema]
        if missing or extra:
            raise caller.error(
                offset,
                height,
                f"the output columns differ from the first batch's: missing {missing}, "
                f"unexpected {extra}",
            )
        out = out.select(schema.names())
    fixed = []
    for name, dtype in schema.items():
        series = out[name]
        cast = conform(series, dtype, features.get(name))
        if cast is None:
            raise caller.error(
                offset,
                height,
                f"column {name!r} is {series.dtype} here but {dtype} in the first batch; "
                "return one type per column, or pass features=...",
                name,
            )
        fixed.append(cast)
    return pl.DataFrame(fixed)


# ------------------------------------------------------------------------------ the source
Transform = Callable[[pl.DataFrame, int, "list[str] | None"], pl.DataFrame]
READ_ROWS = 16_384
"""Most rows per chunk read from the input plan (small batches cost less read together)."""
READ_BYTES = 32 << 20
"""Target size of a chunk read from the input plan, when the size of a row is known."""


def read_rows(batch_size: int, schema: pl.Schema, sample: pl.DataFrame | None = None) -> int:
    """Rows to read from the input at a time: about ``READ_BYTES``, at least ``batch_size``.

    Estimated from a sample batch when there is one, else from the schema (rows with binary,
    lists or structs may be large: read one batch at a time).

    Examples
    --------
    >>> read_rows(1000, pl.Schema({"a": pl.Int64}))
    16384
    >>> read_rows(1000, pl.Schema({"img": pl.Binary}))
    1000
    """
    if sample is not None and sample.height:
        per_row = max(1, int(sample.estimated_size()) // sample.height)
        return max(batch_size, min(READ_ROWS, READ_BYTES // per_row))
    large = any(
        dtype == pl.Binary or isinstance(dtype, (pl.Struct, pl.List, pl.Array, pl.Object))
        for dtype in schema.dtypes()
    )
    return batch_size if large else max(batch_size, READ_ROWS)


def _batch_source(
    ds: Plan,
    transform: Transform,
    schema: pl.Schema,
    *,
    batch_size: int,
    drop_last_batch: bool,
    name: str,
    reads: Callable[[list[str]], list[str] | None] | None = None,
    sample: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """A lazy frame that runs ``transform(frame, offset, wanted)`` over exact batches of ``ds``.

    Polars pushes the query's projection (``wanted``), predicate and row limit into the
    source: the predicate and limit apply to the output, the limit stops reading early, and
    ``reads(wanted)`` names the input columns to read (``None``: all of them). ``sample``,
    a first input batch, sizes the chunks read from the input (:func:`read_rows`).
    """

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        _batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        offset = produced = 0
        if n_rows == 0:
            return
        wanted = with_columns
        if wanted is not None and predicate is not None:
            wanted = list(dict.fromkeys([*wanted, *predicate.meta.root_names()]))
        needed = reads(wanted) if reads is not None and wanted is not None else None
        lf = ds.lf if needed is None else ds.lf.select(needed)
        read_size = read_rows(batch_size, lf.collect_schema(), sample)
        batches = ds.batches(
            batch_size, drop_last_batch=drop_last_batch, lf=lf, read_size=read_size
        )
        # Outputs go to Polars in growing chunks (one batch, then 2, 4, ... up to read_size
        # rows): few hand-overs on long runs, and an early stop still finds little done.
        pending: list[pl.DataFrame] = []
        pending_rows, target = 0, 1
        for frame in batches:
            out = transform(frame, offset, wanted if needed is not None else None)
            offset += frame.height
            if predicate is not None:
                out = out.filter(predicate)
            if with_columns is not None:
                out = out.select(with_columns)
            if n_rows is not None and produced + pending_rows + out.height >= n_rows:
                pending.append(out.head(n_rows - produced - pending_rows))
                yield pl.concat(pending)
                return
            pending.append(out)
            pending_rows += out.height
            if pending_rows >= target:
                yield pl.concat(pending) if len(pending) > 1 else pending[0]
                produced += pending_rows
                pending, pending_rows = [], 0
                target = min(2 * target if target > 1 else batch_size, read_size)
        if pending:
            yield pl.concat(pending)

    return register_io_source(source, schema=schema, explain_name=name)


# ---------------------------------------------------------------------------------- public
def map_with_function(
    ds: Plan,
    function: Callable[..., Any] | None = None,
    *,
    fmt: str | None = None,
    with_indices: bool = False,
    input_columns: str | Sequence[str] | None = None,
    batched: bool = False,
    batch_size: int | None = 1000,
    drop_last_batch: bool = False,
    remove_columns: str | Sequence[str] | None = None,
    features: Features | None = None,
    fn_kwargs: Mapping[str, Any] | None = None,
) -> Plan:
    """``Dataset.map`` with a Python function; see :meth:`crucible_polars.Dataset.map`.

    Examples
    --------
    >>> from crucible_polars.plan import Plan
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2, 3]}))
    >>> out = map_with_function(plan, lambda b: {"a": [x * 2 for x in b["a"]]}, batched=True)
    >>> out.collect()["a"].to_list()
    [2, 4, 6]
    """
    if function is None:
        function = _identity
    removed = ds.check_columns(remove_columns) if remove_columns is not None else []
    caller, size = _Caller.for_dataset(
        ds, fmt, "map", function, batched, batch_size, with_indices, input_columns, fn_kwargs
    )
    inputs, what = caller.input_columns, caller.what
    outputs = _Outputs(caller, removed)
    if not batched:
        drop_last_batch = False

    all_columns = list(ds.features)
    read_by_function: set[str] | None = None  # learnt on the first batch (batched, python)

    def outputs_of(frame: pl.DataFrame, offset: int) -> dict[str, pl.Series] | None:
        nonlocal read_by_function
        if not batched:
            rows, results = caller.call_rows(frame, offset)
            return outputs.from_rows(frame, offset, rows, results)
        columns, fetch = None, None
        if frame.columns != all_columns and inputs is None:  # a projected read

            def fetch(key: str, start: int = offset, n: int = frame.height) -> pl.Series:
                return ds.run(lambda: ds.lf.select(key).slice(start, n).collect())[key]

            columns = all_columns
        given, result = caller.call_batch(frame, offset, columns, fetch)
        if read_by_function is None and isinstance(given, LazyBatch):
            read_by_function = set(given.converted)
        return outputs.from_batch(frame, offset, given, result)

    def apply(frame: pl.DataFrame, offset: int, keeps_inputs: bool = False) -> pl.DataFrame | None:
        columns = outputs_of(frame, offset)
        return None if columns is None else outputs.merge(frame, offset, columns, keeps_inputs)

    if features is not None:
        out_features = Features(features)
        schema = out_features.to_polars()

        def transform_to_features(
            frame: pl.DataFrame, offset: int, wanted: list[str] | None
        ) -> pl.DataFrame:
            merged = apply(frame, offset)
            out = frame if merged is None else merged
            if set(out.columns) != set(schema.names()):
                raise caller.error(
                    offset,
                    frame.height,
                    f"the output columns {out.columns} do not match the features= columns "
                    f"{schema.names()}",
                )
            return cast_lazyframe(out.lazy(), out_features).collect()

        lf = _batch_source(
            ds, transform_to_features, schema, batch_size=size,
            drop_last_batch=drop_last_batch, name=what,
        )  # fmt: skip
        return ds.derive(lf, out_features, num_rows=None)

    first = ds.run(lambda: ds.lf.head(size).collect())
    if first.height == 0 or (drop_last_batch and first.height < size):
        empty = remove_columns(ds, removed) if removed else ds
        return empty.derive(empty.lf.head(0), empty.features, num_rows=0)
    produced = outputs_of(first, 0)
    if produced is None:
        return ds
    merged = outputs.merge(first, 0, produced)
    schema, out_features = _infer_schema(merged, ds.features, first)
    passthrough = [c for c in first.columns if c not in removed and c not in produced]

    def transform(frame: pl.DataFrame, offset: int, wanted: list[str] | None) -> pl.DataFrame:
        out = apply(frame, offset, keeps_inputs=bool(passthrough))
        if out is None:
            raise caller.error(
                offset, frame.height, "the function returned None, but a dict for the first batch"
            )
        return _conform_frame(out, schema, out_features, caller, offset, frame.height, wanted)

    def reads(wanted: list[str]) -> list[str] | None:
        """The input columns a query asking for ``wanted`` must read.

        The function's input columns, or, for a batched function given whole batches, the
        columns it read on the first batch (others are fetched if a later batch reads them),
        plus the wanted columns that come from the input.
        """
        from_input = [c for c in wanted if c in all_columns]
        if inputs is not None:
            return list(dict.fromkeys([*inputs, *from_input]))
        if read_by_function is None:
            return None  # row dicts (or another format) see every column
        needed = [c for c in all_columns if c in read_by_function or c in from_input]
        return needed or all_columns[:1]  # one column keeps the row count

    lf = _batch_source(
        ds, transform, schema, batch_size=size, drop_last_batch=drop_last_batch, name=what,
        reads=reads, sample=first,
    )  # fmt: skip
    keeps_rows = (not batched) or bool(passthrough)
    return ds.derive(lf, out_features, num_rows=ds.known_rows() if keeps_rows else None)


def _identity(x: Any, *args: Any, **kwargs: Any) -> Any:
    return x


def _infer_schema(
    merged: pl.DataFrame, features: Features, first: pl.DataFrame
) -> tuple[pl.Schema, Features]:
    """Schema and Features of the first batch's output: unchanged columns keep theirs."""
    schema: dict[str, pl.DataType] = {}
    out_features = Features()
    for name, series in zip(merged.columns, merged.get_columns(), strict=True):
        original = features.get(name)
        if original is not None:
            target = feature_to_polars(original)
            if conform(series, target, original) is not None:
                schema[name] = target
                out_features[name] = original
                continue
        schema[name] = series.dtype
        if series.dtype == feature_to_polars(Image()) and name not in first.columns:
            out_features[name] = Image()
        else:
            out_features[name] = Features.from_polars({name: series.dtype})[name]
    return pl.Schema(schema), out_features


def filter_with_function(
    ds: Plan,
    function: Callable[..., Any],
    *,
    fmt: str | None = None,
    with_indices: bool = False,
    input_columns: str | Sequence[str] | None = None,
    batched: bool = False,
    batch_size: int | None = 1000,
    fn_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> Plan:
    """``Dataset.filter`` with a Python function; see :meth:`crucible_polars.Dataset.filter`.

    Examples
    --------
    >>> from crucible_polars.plan import Plan
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2, 3]}))
    >>> filter_with_function(plan, lambda row, i: i != 1, with_indices=True).collect()["a"]
    shape: (2,)
    Series: 'a' [i64]
    [
    	1
    	3
    ]
    """
    check_options(options, "filter")
    caller, size = _Caller.for_dataset(
        ds, fmt, "filter", function, batched, batch_size, with_indices, input_columns, fn_kwargs
    )
    inputs, what = caller.input_columns, caller.what

    def transform(frame: pl.DataFrame, offset: int, wanted: list[str] | None) -> pl.DataFrame:
        if batched:
            _, mask = caller.call_batch(frame, offset)
            if isinstance(mask, (pa.Array, pa.ChunkedArray)):
                mask = mask.to_pylist()
            if isinstance(mask, (str, bytes)) or not hasattr(mask, "__len__"):
                raise caller.error(
                    offset,
                    frame.height,
                    f"a batched filter function returns one bool per row, got a "
                    f"{type(mask).__name__}",
                )
            if len(mask) != frame.height:
                raise caller.error(
                    offset,
                    frame.height,
                    f"the function returned {len(mask)} values for a batch of {frame.height} "
                    "rows; return one bool per row",
                )
            keep = [bool(v) for v in mask]
        else:
            _, results = caller.call_rows(frame, offset)
            keep = [bool(v) for v in results]
        return frame.filter(pl.Series(keep, dtype=pl.Boolean))

    def reads(wanted: list[str]) -> list[str] | None:
        return None if inputs is None else list(dict.fromkeys([*inputs, *wanted]))

    schema = ds.lf.collect_schema()
    lf = _batch_source(
        ds, transform, schema, batch_size=size, drop_last_batch=False, name=what, reads=reads
    )
    return ds.derive(lf, ds.features, num_rows=None)
