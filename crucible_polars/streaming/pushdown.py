"""What a chain of Polars transforms needs from the files: columns, and a row-group filter.

The streaming source applies the leading expression transforms of a pipeline (``filter``,
``with_columns``, ``select_columns``, ``cast_column``, ...) to each frame it reads. Before
reading, it asks Polars' own optimizer which source columns that chain uses (projection
pushdown) and which part of its filters can be evaluated by Arrow (predicate pushdown): the
chain is run once over an empty stand-in scan, and the scan records what Polars pushed into
it. The Arrow predicate is then checked against each parquet row group's statistics, so row
groups that cannot match are never fetched.

Examples
--------
>>> import polars as pl
>>> schema = pl.Schema({"id": pl.Int64, "text": pl.String, "extra": pl.String})
>>> needs = analyze(schema, [lambda lf: lf.filter(pl.col("id") < 5).select("text")])
>>> needs.columns, str(needs.predicate)
(['id', 'text'], '(id < 5)')

Each frame read is then completed to the columns the chain needs only (:func:`read_schema`):
the chain runs on those columns alone when that gives the same columns out as the full schema
would (:func:`runs_on`), or not at all when it only picks columns (:func:`projection`);
otherwise (a chain that drops or renames columns it does not read)
the others are added to its plan as null placeholders, which Polars prunes again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl

from crucible_polars.streaming.transforms import lazy_drop, lazy_select

Transform = Callable[[pl.LazyFrame], pl.LazyFrame]


@dataclass(frozen=True)
class Needs:
    """Source columns a chain reads (``None``: all) and an Arrow filter implied by it."""

    columns: list[str] | None
    predicate: Any = None


class _Recorder:
    """Looks like a ``pyarrow.dataset.Dataset`` to ``pl.scan_pyarrow_dataset``; records the
    projection and filter Polars pushes into it and yields no rows."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.columns: list[str] | None = None
        self.predicate: Any = None

    def to_batches(
        self, columns: list[str] | None = None, filter: Any = None, **kwargs: Any
    ) -> Iterator[Any]:
        self.columns = None if columns is None else list(columns)
        self.predicate = filter
        return iter(())


def apply_chain(lf: pl.LazyFrame, chain: Sequence[Transform]) -> pl.LazyFrame:
    """``lf`` with every transform of ``chain`` applied, in order.

    Examples
    --------
    >>> apply_chain(pl.LazyFrame({"a": [1, 2]}), [lambda lf: lf.filter(pl.col("a") > 1)]).collect()
    shape: (1, 1)
    ┌─────┐
    │ a   │
    │ --- │
    │ i64 │
    ╞═════╡
    │ 2   │
    └─────┘
    """
    for transform in chain:
        lf = transform(lf)
    return lf


def analyze(schema: pl.Schema, chain: Sequence[Transform]) -> Needs:
    """The source columns and the Arrow predicate that ``chain`` needs, per Polars' optimizer.

    Falls back to "every column, no predicate" when the analysis is not possible (a Polars
    version without Arrow predicate conversion, a schema Arrow cannot hold).

    Examples
    --------
    >>> analyze(pl.Schema({"a": pl.Int64, "b": pl.Int64}), [lambda lf: lf.select("b")]).columns
    ['b']
    >>> analyze(pl.Schema({"a": pl.Int64}), []).columns is None
    True
    """
    if not chain:
        return Needs(None, None)
    try:
        recorder = _Recorder(pl.DataFrame(schema=schema).to_arrow().schema)
        apply_chain(pl.scan_pyarrow_dataset(recorder), chain).collect()
    except Exception:  # the analysis is an optimization only
        return Needs(None, None)
    columns = recorder.columns
    if columns is not None and set(columns) >= set(schema.names()):
        columns = None
    return Needs(columns, recorder.predicate)


def read_schema(schema: pl.Schema, needs: Needs) -> pl.Schema:
    """The part of ``schema`` a chain with ``needs`` reads, in the schema's order (with no
    column needed, the first one, which the readers read to count rows).

    Examples
    --------
    >>> schema = pl.Schema({"a": pl.Int64, "b": pl.String, "c": pl.Float64})
    >>> read_schema(schema, Needs(["c", "a"]))
    Schema([('a', Int64), ('c', Float64)])
    >>> read_schema(schema, Needs(None)) == schema, read_schema(schema, Needs([])).names()
    (True, ['a'])
    """
    if needs.columns is None:
        return schema
    wanted = set(needs.columns) or set(schema.names()[:1])
    return pl.Schema({name: dtype for name, dtype in schema.items() if name in wanted})


def runs_on(schema: pl.Schema, part: pl.Schema, chain: Sequence[Transform]) -> bool:
    """Whether ``chain`` run on frames of only the ``part`` of ``schema`` that it reads gives
    the columns it gives on the whole schema (the rows are then the same: the other columns
    are never read). Not so when it names a column it does not read (``drop``, ``rename``)
    or picks columns by position.

    Examples
    --------
    >>> schema = pl.Schema({"a": pl.Int64, "b": pl.String})
    >>> part = pl.Schema({"a": pl.Int64})
    >>> runs_on(schema, part, [lambda lf: lf.select("a")])
    True
    >>> runs_on(schema, part, [lambda lf: lf.drop("b")])
    False
    """
    if part == schema:
        return True
    try:
        whole = apply_chain(pl.LazyFrame(schema=schema), chain).collect().schema
        narrow = apply_chain(pl.LazyFrame(schema=part), chain).collect().schema
    except Exception:  # the chain fails on the part: run it on the whole schema
        return False
    return whole == narrow


def projection(schema: pl.Schema, chain: Sequence[Transform]) -> list[str] | None:
    """The columns out of ``chain`` when it only selects and drops columns by name
    (``select_columns``, ``remove_columns``), so each frame is a projection, with no query;
    ``None`` for any other chain (or one that would fail: it then runs, and raises).

    Examples
    --------
    >>> from crucible_polars.streaming.transforms import lazy_drop, lazy_select
    >>> schema = pl.Schema({"a": pl.Int64, "b": pl.String, "c": pl.Float64})
    >>> chain = [partial(lazy_drop, names=["b"]), partial(lazy_select, names=["c", "a"])]
    >>> projection(schema, chain)
    ['c', 'a']
    >>> projection(schema, [lambda lf: lf.select("a")]) is None
    True
    """
    names = schema.names()
    for transform in chain:
        if (
            not isinstance(transform, partial)
            or transform.args
            or set(transform.keywords) != {"names"}
        ):
            return None
        picked = transform.keywords["names"]
        if not isinstance(picked, list) or not all(isinstance(n, str) for n in picked):
            return None
        if len(set(picked)) != len(picked) or not set(picked) <= set(names):
            return None
        if transform.func is lazy_select:
            names = list(picked)
        elif transform.func is lazy_drop:
            names = [n for n in names if n not in picked]
        else:
            return None
    return names
