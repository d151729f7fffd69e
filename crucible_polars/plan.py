"""The core value below ``Dataset`` and ``IterableDataset``: a Polars plan and its Features.

A :class:`Plan` is what a dataset *is*, without its presentation (info, split name, output
format): the lazy Polars frame, the Features that give its columns meaning, the row count
when it is known without running anything, the callbacks that explain a failed query, and,
for a plan made by a row-position transform, the plan it gathers from and the indices.

A ``Plan`` is immutable. Every operation in :mod:`crucible_polars.ops` is a function from
``Plan`` to a new ``Plan``; ``Dataset`` wraps one and adds info, split and format, so the
operations never need to know about ``Dataset``.

A plan whose rows were written once to memory-mapped Arrow (see
:mod:`crucible_polars.materialize`) carries that ``table``: a gather over it is a zero-copy
``pyarrow.Table.take`` instead of a Polars query.

Examples
--------
>>> import polars as pl
>>> plan = Plan.from_frame(pl.DataFrame({"x": [1, 2, 3]}))
>>> plan.row_count(), list(plan.features)
(3, ['x'])
>>> plan.derive(plan.lf.filter(pl.col("x") > 1)).collect()["x"].to_list()
[2, 3]
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

from crucible_polars.arrow_files import lazy_rows, map_file_columns, mapped_columns
from crucible_polars.errors import ColumnNotFoundError
from crucible_polars.features import Features, feature_to_polars
from crucible_polars.forking import refuse_in_forked_child
from crucible_polars.readers.base import Diagnose, run_explained

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Gather:
    """A plan that is ``base`` gathered at ``indices`` (validated, non-negative ``int64``).

    Kept so that a later row-position transform composes the indices and gathers once, and
    so that reading the rows takes them from ``base``'s materialized rows (see
    :mod:`crucible_polars.materialize`) instead of running a gather query.
    """

    base: Plan
    indices: np.ndarray


@dataclass(frozen=True, eq=False)
class Plan:
    """A lazy Polars frame with its Features, row count and failure explanations.

    Parameters
    ----------
    lf
        The Polars plan.
    features
        The Features of ``lf``'s columns, in order.
    num_rows
        The row count, when known without running the plan.
    diagnose
        Callbacks that name the file, row or column at fault after a query failed.
    gather
        Set when this plan is another plan gathered at some indices.
    table
        The plan's rows as (memory-mapped) Arrow, when they were materialized: ``lf`` then
        scans exactly this table.
    sources
        The data files the plan reads (their size and time stamp key materialized rows).

    Examples
    --------
    >>> import polars as pl
    >>> Plan.from_frame(pl.LazyFrame({"a": [1]})).num_rows is None
    True
    """

    lf: pl.LazyFrame
    features: Features
    num_rows: int | None = None
    diagnose: tuple[Diagnose, ...] = ()
    gather: Gather | None = None
    table: pa.Table | None = None
    sources: tuple[str, ...] = ()
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_frame(
        cls,
        frame: pl.DataFrame | pl.LazyFrame,
        features: Features | None = None,
        *,
        num_rows: int | None = None,
        diagnose: Sequence[Diagnose] = (),
    ) -> Plan:
        """A plan over a Polars frame; features are inferred from its schema when not given.

        Parameters
        ----------
        frame
            A DataFrame (its height is the row count) or a LazyFrame (kept lazy).
        features
            The Features, else inferred with :meth:`Features.from_polars`.
        num_rows
            The row count of a LazyFrame, when known.
        diagnose
            Failure-explaining callbacks of the readers behind ``frame``.

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.DataFrame({"a": [1, 2]})).num_rows
        2
        """
        if isinstance(frame, pl.DataFrame):
            num_rows = frame.height
        lf = frame.lazy()
        if features is None:
            features = Features.from_polars(lf.collect_schema())
        return cls(lf, features, num_rows=num_rows, diagnose=tuple(diagnose))

    # ------------------------------------------------------------------ deriving
    def derive(
        self,
        lf: pl.LazyFrame,
        features: Features | None = None,
        *,
        num_rows: int | None = None,
        diagnose: Sequence[Diagnose] | None = None,
    ) -> Plan:
        """A new plan over ``lf``, keeping this plan's diagnostics.

        Parameters
        ----------
        lf
            The longer Polars plan.
        features
            Its Features; by default the features of the columns that keep their name, and
            inferred ones for new columns.
        num_rows
            The new row count, when known.
        diagnose
            Replaces the diagnostics (e.g. ``()`` for a plan over materialized rows).

        Examples
        --------
        >>> import polars as pl
        >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
        >>> plan.derive(plan.lf.with_columns(b=pl.lit("x"))).features
        Features({'a': Value('int64'), 'b': Value('string')})
        """
        if features is None:
            features = carry_features(self.features, lf.collect_schema(), check_dtypes=False)
        return Plan(
            lf,
            features,
            num_rows=num_rows,
            diagnose=self.diagnose if diagnose is None else tuple(diagnose),
            sources=self.sources,
        )

    def with_rows_known(self, num_rows: int | None) -> Plan:
        """The same plan with a known row count (no-op for ``None``).

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.LazyFrame({"a": [1]})).with_rows_known(1).num_rows
        1
        """
        return self if num_rows is None else replace(self, num_rows=num_rows, _memo={})

    def with_gather(self, gather: Gather) -> Plan:
        """The same plan, remembering that it is ``gather.base`` gathered at its indices.

        Examples
        --------
        >>> import numpy as np, polars as pl
        >>> base = Plan.from_frame(pl.DataFrame({"a": [1, 2]}))
        >>> plan = Plan.from_frame(base.lf.gather([1]), num_rows=1)
        >>> plan.with_gather(Gather(base, np.array([1]))).gather is not None
        True
        """
        return replace(self, gather=gather, _memo={})

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """A value computed once per plan (the plan is immutable, so it never goes stale).

        Examples
        --------
        >>> import polars as pl
        >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
        >>> plan.memo("answer", lambda: 42), plan.memo("answer", lambda: 0)
        (42, 42)
        """
        if key not in self._memo:
            self._memo[key] = make()
        value: T = self._memo[key]
        return value

    def recall(self, key: str) -> Any:
        """A value :meth:`memo` or :meth:`remember` kept, else ``None`` (nothing computed).

        Examples
        --------
        >>> import polars as pl
        >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
        >>> plan.recall("rows") is None, plan.remember("rows", 3), plan.recall("rows")
        (True, 3, 3)
        """
        return self._memo.get(key)

    def remember(self, key: str, value: T) -> T:
        """Keep ``value`` as this plan's ``key`` (a result of the immutable plan); returns it."""
        self._memo[key] = value
        return value

    def runs_python(self) -> bool:
        """Whether running the plan may call Python code (a ``map`` or ``filter`` function).

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.LazyFrame({"a": [1]})).runs_python()
        False
        >>> Plan.from_frame(pl.LazyFrame({"a": [1]}).map_batches(lambda df: df)).runs_python()
        True
        """

        def check() -> bool:
            text = self.lf.explain(optimized=False)
            return "PYTHON" in text or "python" in text or "OPAQUE" in text

        return self.memo("runs python", check)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by value, except materialized rows on disk, which are mapped again (so a
        DataLoader worker started with ``spawn`` does not copy them)."""
        rows = self.table if self.table is not None else self._materialized_table()
        if rows is not None:
            return (_plan_of_rows, (_TableRef(rows), self.features, self.sources))
        diagnose = tuple(d for d in self.diagnose if _pickles(d))
        state = (self.lf, self.features, self.num_rows, diagnose, self.gather, self.sources)
        return (_plan_of_state, state)

    def _materialized_table(self) -> pa.Table | None:
        materialized = self._memo.get("materialized")
        return materialized.table if isinstance(materialized, Plan) else None

    # ------------------------------------------------------------------ running
    def run(self, action: Callable[[], T]) -> T:
        """Run a query; if Polars fails, let the readers explain which file, row or column.

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.DataFrame({"a": [1]})).run(lambda: 42)
        42
        """
        refuse_in_forked_child()
        return run_explained(action, self.diagnose)

    def collect(self, lf: pl.LazyFrame | None = None) -> pl.DataFrame:
        """Collect this plan (or ``lf``, a plan built on it), explaining failures.

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.DataFrame({"a": [1]})).collect().height
        1
        """
        plan = self.lf if lf is None else lf
        return self.run(plan.collect)

    def batches(
        self,
        batch_size: int,
        *,
        drop_last_batch: bool = False,
        lf: pl.LazyFrame | None = None,
        read_size: int | None = None,
    ) -> Iterator[pl.DataFrame]:
        """Exact-size batches from Polars' streaming engine, with bounded memory.

        Parameters
        ----------
        batch_size
            Rows per batch; the last batch may be smaller.
        drop_last_batch
            Drop a last batch smaller than ``batch_size``.
        lf
            A plan built on this one to read instead (e.g. a projection).
        read_size
            Rows per chunk asked of Polars (default ``batch_size``); larger chunks cost less
            per row when batches are small.

        Examples
        --------
        >>> import polars as pl
        >>> plan = Plan.from_frame(pl.DataFrame({"a": range(5)}))
        >>> [b.height for b in plan.batches(2)]
        [2, 2, 1]
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        source = self.lf if lf is None else lf
        pending: list[pl.DataFrame] = []
        pending_rows = 0
        chunk_size = max(batch_size, read_size or 0)
        chunks = self.run(lambda: iter(source.collect_batches(chunk_size=chunk_size)))
        while True:
            chunk = self.run(lambda: next(chunks, None))
            if chunk is None:
                break
            pending.append(chunk)
            pending_rows += chunk.height
            if pending_rows < batch_size:
                continue
            frame = pl.concat(pending, rechunk=False) if len(pending) > 1 else pending[0]
            full = frame.height - frame.height % batch_size
            for start in range(0, full, batch_size):
                yield frame.slice(start, batch_size)
            rest = frame.slice(full)
            pending, pending_rows = ([rest], rest.height) if rest.height else ([], 0)
        if pending_rows and not drop_last_batch:
            yield pl.concat(pending) if len(pending) > 1 else pending[0]

    def row_count(self) -> int:
        """The number of rows: known, or counted once (the count is then remembered).

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.LazyFrame({"a": [1, 2]})).row_count()
        2
        """
        if self.num_rows is not None:
            return self.num_rows
        rows = self.recall("materialized")
        if isinstance(rows, Plan) and rows.num_rows is not None:
            return rows.num_rows
        count = self.lf.select(pl.len())
        return self.memo("row count", lambda: int(self.run(count.collect).item()))

    def known_rows(self) -> int | None:
        """The row count if known or already counted, without running anything.

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.LazyFrame({"a": [1, 2]})).known_rows() is None
        True
        """
        if self.num_rows is not None:
            return self.num_rows
        counted = self.recall("row count")
        return counted if isinstance(counted, int) else None

    def check_columns(self, columns: str | Iterable[str]) -> list[str]:
        """The column names, checked to exist.

        Raises
        ------
        ColumnNotFoundError
            A name that is not a column (the message lists the columns).

        Examples
        --------
        >>> import polars as pl
        >>> Plan.from_frame(pl.DataFrame({"a": [1]})).check_columns("a")
        ['a']
        """
        names = [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in names if c not in self.features]
        if missing:
            raise ColumnNotFoundError(
                missing[0] if len(missing) == 1 else missing, list(self.features)
            )
        return names


class _TableRef:
    """A pickle of an Arrow table: the file and columns it is mapped from, else its bytes."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __reduce__(self) -> tuple[Any, ...]:
        mapped = mapped_columns(self.table)
        if mapped is not None:
            return (_map_table, mapped)
        return (_TableRef, (self.table,))


def _pickles(callback: Diagnose) -> bool:
    """Whether a diagnose callback pickles (a reader's closure may not: it is then left out,
    and a failure in another process is reported without the file and line)."""
    try:
        pickle.dumps(callback)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _map_table(path: str, columns: list[tuple[str, str]]) -> _TableRef:
    return _TableRef(map_file_columns(path, columns))


def _plan_of_rows(ref: _TableRef, features: Features, sources: tuple[str, ...]) -> Plan:
    return rows_plan(ref.table, features, sources)


def rows_plan(table: pa.Table, features: Features, sources: tuple[str, ...] = ()) -> Plan:
    """A plan over materialized Arrow rows (no diagnostics: the rows are already read).

    Rows mapped from a file (:func:`~crucible_polars.arrow_files.map_arrow_file`, columns
    selected or renamed at most) are scanned from it by the plan, nothing copied into
    Polars' memory until a query runs; other rows (taken ones made
    :func:`~crucible_polars.arrow_files.unmapped`) are wrapped column by column.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from crucible_polars.features import Value
    >>> rows_plan(pa.table({"a": [1, 2]}), Features({"a": Value("int64")})).num_rows
    2
    """
    lf = lazy_rows(table)
    return Plan(lf, features, num_rows=table.num_rows, table=table, sources=sources)


def _plan_of_state(
    lf: pl.LazyFrame,
    features: Features,
    num_rows: int | None,
    diagnose: tuple[Diagnose, ...],
    gather: Gather | None,
    sources: tuple[str, ...],
) -> Plan:
    return Plan(lf, features, num_rows, diagnose, gather, None, sources)


def carry_features(previous: Features, schema: pl.Schema, *, check_dtypes: bool = True) -> Features:
    """Features for ``schema``: a column keeps its feature while it keeps its name (and, with
    ``check_dtypes``, its Polars dtype); other columns get inferred features.

    Parameters
    ----------
    previous
        The features before the change.
    schema
        The Polars schema after it.
    check_dtypes
        Also require the dtype to be unchanged (for expressions that may replace a column).

    Examples
    --------
    >>> from crucible_polars.features import ClassLabel
    >>> before = Features({"y": ClassLabel(names=["a", "b"])})
    >>> carry_features(before, pl.Schema({"y": pl.Int64}))
    Features({'y': ClassLabel(names=['a', 'b'])})
    >>> carry_features(before, pl.Schema({"y": pl.String}))
    Features({'y': Value('string')})
    """
    inferred: Features | None = None
    out: dict[str, Any] = {}
    for name, dtype in schema.items():
        feature = previous.get(name)
        if feature is not None and (not check_dtypes or feature_to_polars(feature) == dtype):
            out[name] = feature
            continue
        if inferred is None:
            inferred = Features.from_polars(schema)
        out[name] = inferred[name]
    return Features(out)
