"""The head of a streaming pipeline: files (or a lazy plan) read unit by unit, as frames.

:class:`StreamSource` describes what to read (files, format, schema, split slices) and is
shared, immutable in meaning, by every dataset derived from it. :class:`SourceNode` reads it
for one iteration: the units of this rank and worker, in this epoch's order, each frame run
through the leading expression transforms of the pipeline (whose projection and filters
were pushed into the reads), and yields every frame with the position that follows it,
``{"unit": i, "pos": {...}}``.

A background thread reads ahead (one frame queued, one being read), so reading overlaps with
the consumer's work; ``take(10)`` from parquet reads at most two or three row groups.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
>>> pl.DataFrame({"x": list(range(5))}).write_parquet(path, row_group_size=2)
>>> source = StreamSource.from_files("parquet", [path])
>>> node = SourceNode(source, chain=[lambda lf: lf.filter(pl.col("x") != 1)])
>>> frames = list(node.frames(None))
>>> [x for f, _ in frames for x in f["x"]], frames[-1][1]
([0, 2, 3, 4], {'unit': 0, 'pos': {'row': 5}})
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import polars as pl

from crucible_polars.errors import CrucibleError, SchemaMismatchError
from crucible_polars.readers.base import Diagnose
from crucible_polars.resolve.splits import SplitSlice
from crucible_polars.sources.hub_digests import expect_digests, expected_digests
from crucible_polars.streaming.lines import LineFormat, read_lines
from crucible_polars.streaming.parquet import FRAME_ROWS, ParquetReader, polars_schema, read_meta
from crucible_polars.streaming.pushdown import (
    Needs,
    Transform,
    analyze,
    apply_chain,
    projection,
    read_schema,
    runs_on,
)
from crucible_polars.streaming.ranges import local_path
from crucible_polars.streaming.read_ahead import read_ahead
from crucible_polars.streaming.sharding import (
    ShardSpec,
    Unit,
    assign,
    row_group_units,
    slice_units,
)

T = TypeVar("T")
State = Any
FILE_FORMATS = ("parquet", "json", "csv", "text")
_PARALLEL_FOOTERS = 8


class NotLineBasedError(Exception):
    """A JSON file that holds one document (an array, or ``field=``), not JSON lines.

    Not a user-facing error, so not in :mod:`crucible_polars.errors`: a signal from
    :meth:`StreamSource.from_files` to the stream builder, which catches it and streams
    the file as a lazy plan instead.
    """


@dataclass
class StreamSource:
    """What a stream reads: files and how to parse them, or lazy plans (one per "file").

    ``terms`` are split-slice terms (``train[:10%]+test``) as ``(file_indices, slice)``;
    ``None`` reads every file whole. Row counts and units are worked out on first use.
    """

    format: str
    files: tuple[str, ...]
    schema: pl.Schema
    line_format: LineFormat | None = None
    plans: tuple[pl.LazyFrame, ...] = ()
    storage_options: dict[str, Any] | None = None
    token: str | bool | None = None
    terms: tuple[tuple[tuple[int, ...], SplitSlice], ...] | None = None
    units: tuple[Unit, ...] | None = None
    diagnose: tuple[Diagnose, ...] = ()
    _counts: dict[int, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        state["_digests"] = expected_digests(self.files)  # checked in a worker process too
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        expect_digests(state.pop("_digests", {}))
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @classmethod
    def from_files(
        cls,
        format: str,
        files: Sequence[str],
        options: Mapping[str, Any] | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
        token: str | bool | None = None,
    ) -> StreamSource:
        """A source over data files of one format; reads the first file's schema now.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> _ = open(path, "w").write("hi\\n")
        >>> StreamSource.from_files("text", [path]).schema
        Schema([('text', String)])
        """
        from crucible_polars.streaming.lines import infer_line_format

        files = tuple(files)
        storage = dict(storage_options) if storage_options else None
        if format == "parquet":
            meta = read_meta(files[0], storage, token)
            schema = polars_schema(meta.arrow_schema)
            return cls(format, files, schema, storage_options=storage, token=token)
        line_format = infer_line_format(format, files[0], options or {}, storage, token)
        if line_format is None:
            raise NotLineBasedError(f"{files[0]} is not line-based; stream it as a lazy plan")
        return cls(
            format, files, line_format.schema, line_format, storage_options=storage, token=token
        )

    @classmethod
    def from_plans(
        cls,
        plans: Sequence[pl.LazyFrame],
        *,
        units: Sequence[Unit] | None = None,
        diagnose: Sequence[Diagnose] = (),
    ) -> StreamSource:
        """A source over lazy Polars plans, read with Polars' streaming engine.

        Examples
        --------
        >>> StreamSource.from_plans([pl.LazyFrame({"a": [1]})]).schema
        Schema([('a', Int64)])
        """
        schema = plans[0].collect_schema()
        return cls(
            "lazy",
            tuple(f"<plan {i}>" for i in range(len(plans))),
            schema,
            plans=tuple(plans),
            units=None if units is None else tuple(units),
            diagnose=tuple(diagnose),
        )

    # ------------------------------------------------------------------ sizes
    def file_rows(self, indices: Sequence[int]) -> list[int]:
        """Row counts of files (parquet: from the footers; others: counted by reading)."""
        missing = [i for i in indices if i not in self._counts]
        if missing:
            workers = _PARALLEL_FOOTERS if self.format == "parquet" else 1
            with ThreadPoolExecutor(max_workers=min(workers, len(missing))) as pool:
                for i, count in zip(missing, pool.map(self._count, missing), strict=True):
                    self._counts[i] = count
        return [self._counts[i] for i in indices]

    def _count(self, index: int) -> int:
        if self.format == "parquet":
            return read_meta(self.files[index], self.storage_options, self.token).num_rows
        if self.format == "lazy":
            return int(self.plans[index].select(pl.len()).collect().item())
        first = self.schema.names()[:1]
        return sum(f.height for f, _, _ in self.read(Unit(index), None, Needs(first)))

    def base_units(self) -> list[Unit]:
        """Every unit, in order, before any division between consumers."""
        with self._lock:
            if self.units is None:
                self.units = tuple(self._make_units())
            return list(self.units)

    def _make_units(self) -> list[Unit]:
        if self.terms is None:
            return [Unit(i) for i in range(len(self.files))]
        out: list[Unit] = []
        for indices, term in self.terms:
            whole = [Unit(i) for i in indices]
            if term.is_whole:
                out.extend(whole)
                continue
            counts = self.file_rows(indices)
            start, stop = term.bounds(sum(counts))
            out.extend(slice_units(whole, counts, start, stop))
        return out

    def split_row_groups(self, units: Sequence[Unit]) -> list[Unit] | None:
        """One unit per parquet row group (``None`` for other formats)."""
        if self.format != "parquet":
            return None
        files = sorted({u.file for u in units})
        with ThreadPoolExecutor(max_workers=min(_PARALLEL_FOOTERS, len(files) or 1)) as pool:
            metas = dict(zip(files, pool.map(self._meta, files), strict=True))
        out: list[Unit] = []
        for unit in units:
            starts = metas[unit.file].row_starts
            bounds = [(starts[i], starts[i + 1]) for i in range(len(starts) - 1)]
            out.extend(row_group_units(unit, bounds))
        return out

    def _meta(self, index: int) -> Any:
        return read_meta(self.files[index], self.storage_options, self.token)

    def unit_rows(self, units: Sequence[Unit]) -> list[int] | None:
        """Rows of each unit, when they are whole files or row ranges (``None`` otherwise)."""
        if any(u.row_groups is not None or u.step != 1 for u in units):
            return None
        counts = self.file_rows(sorted({u.file for u in units}))
        rows = dict(zip(sorted({u.file for u in units}), counts, strict=True))
        return [
            max(0, min(rows[u.file], u.stop if u.stop is not None else rows[u.file]) - u.start)
            for u in units
        ]

    def plan_units(self, shards: Sequence[ShardSpec], order_seed: int | None = None) -> list[Unit]:
        """This consumer's units: divided by ``shards`` in turn, then shuffled by the seed."""
        units = self.base_units()
        for spec in shards:
            units = assign(
                units, spec, split_row_groups=self.split_row_groups, unit_rows=self.unit_rows
            )
        if order_seed is not None and len(units) > 1:
            order = np.random.default_rng(order_seed).permutation(len(units))
            units = [units[i] for i in order]
        return units

    @property
    def num_shards(self) -> int:
        """Units before division (files, or row ranges of a plan)."""
        return len(self.units) if self.units is not None else len(self.files)

    # ------------------------------------------------------------------ reading
    def read(
        self, unit: Unit, pos: dict[str, int] | None, needs: Needs
    ) -> Iterator[tuple[pl.DataFrame, int, dict[str, int]]]:
        """Frames of one unit from ``pos``: ``(frame, its first file row, position after)``."""
        start = max(unit.start, pos["row"]) if pos else unit.start
        if self.format == "parquet":
            reader = ParquetReader(self.files[unit.file], self.storage_options, self.token)
            for frame, end in reader.frames(
                row_groups=unit.row_groups,
                start=start,
                stop=unit.stop,
                columns=needs.columns,
                predicate=needs.predicate,
            ):
                yield frame, end - frame.height, {"row": end}
        elif self.format == "lazy":
            plan = self.plans[unit.file]
            if needs.columns is not None:
                plan = plan.select(needs.columns)
            length = None if unit.stop is None else max(unit.stop - start, 0)
            row = start
            sliced = plan.slice(start, length)
            batches = self._run(lambda: iter(sliced.collect_batches(chunk_size=FRAME_ROWS)))
            while True:
                batch = self._run(lambda: next(batches, None))
                if batch is None:
                    break
                row += batch.height
                yield batch, row - batch.height, {"row": row}
        else:
            assert self.line_format is not None
            for frame, after in read_lines(
                self.files[unit.file],
                self.line_format,
                columns=needs.columns,
                start=pos,
                start_row=start,
                stop_row=unit.stop,
                storage_options=self.storage_options,
                token=self.token,
            ):
                yield frame, after["row"] - frame.height, after

    def _run(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except CrucibleError:
            raise
        except (pl.exceptions.PolarsError, OSError) as error:
            for diagnose in self.diagnose:
                explained = diagnose(error)
                if explained is not None:
                    raise explained from error
            raise

    def complete(
        self, frame: pl.DataFrame, path: str, schema: pl.Schema | None = None
    ) -> pl.DataFrame:
        """``frame`` with every column of ``schema`` (default: the source's), in order:
        absent ones as nulls, others cast to the schema's types (a column that does not cast
        raises :class:`SchemaMismatchError` naming the first file and ``path``)."""
        schema = self.schema if schema is None else schema
        if frame.columns == schema.names() and frame.dtypes == schema.dtypes():
            return frame
        exprs = []
        for name, dtype in schema.items():
            if name not in frame.columns:
                exprs.append(pl.lit(None, dtype).alias(name))
            elif frame.schema[name] != dtype:
                exprs.append(pl.col(name).cast(dtype))
        names = schema.names()
        try:
            out = frame.with_columns(exprs) if exprs else frame
            return out if out.columns == names else out.select(names)
        except pl.exceptions.PolarsError:
            bad = next(n for n, t in schema.items() if n in frame.columns and frame.schema[n] != t)
            raise SchemaMismatchError(
                [self.files[0], path], bad, str(schema[bad]), str(frame.schema[bad])
            ) from None


class SourceNode:
    """Reads a :class:`StreamSource` for one iteration (see the module docstring).

    Parameters
    ----------
    source
        What to read.
    chain
        Expression transforms applied to every frame (their needs are pushed into reads).
    shards
        Divisions of the units between consumers (ranks, then DataLoader workers).
    order_seed
        Shuffles the unit order (``shuffle()``), or ``None`` for file order.
    keeps_rows
        Whether ``chain`` keeps every row (no filter): then :meth:`seek` can jump.
    """

    def __init__(
        self,
        source: StreamSource,
        chain: Sequence[Transform] = (),
        shards: Sequence[ShardSpec] = (),
        order_seed: int | None = None,
        keeps_rows: bool = False,
    ) -> None:
        self.source = source
        self.chain = list(chain)
        self.shards = list(shards)
        self.order_seed = order_seed
        self.keeps_rows = keeps_rows
        self.needs = analyze(source.schema, self.chain)
        # frames are completed to the columns read only; the chain runs on them alone, or
        # (when it names columns it does not read) after null placeholders for the others
        self._read_schema = read_schema(source.schema, self.needs)
        self._placeholders: list[pl.Expr] = []
        self._projection = projection(source.schema, self.chain) if self.chain else None
        if self._projection is not None and not set(self._projection) <= set(self._read_schema):
            self._projection = None
        if self._projection is None and not runs_on(source.schema, self._read_schema, self.chain):
            self._placeholders = [
                pl.lit(None, dtype).alias(name)
                for name, dtype in source.schema.items()
                if name not in self._read_schema
            ]
        self._units: list[Unit] | None = None

    def seek(self, n: int) -> State | None:
        """The state after the first ``n`` rows, found from parquet footers without reading
        any data; ``None`` when that is not possible (the chain filters rows, or the files
        are not parquet)."""
        if not self.keeps_rows or self.source.format != "parquet":
            return None
        units = self.units()
        for index, unit in enumerate(units):
            starts = self.source._meta(unit.file).row_starts
            bounds = [(starts[i], starts[i + 1]) for i in range(len(starts) - 1)]
            count = unit.count(bounds)
            if n < count:
                return {"unit": index, "pos": {"row": unit.row_after(bounds, n)}}
            n -= count
        return {"unit": len(units), "pos": None}

    def units(self) -> list[Unit]:
        """The units this node reads, in order."""
        if self._units is None:
            self._units = self.source.plan_units(self.shards, self.order_seed)
        return self._units

    def _frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        units = self.units()
        first = state["unit"] if state else 0
        for index in range(first, len(units)):
            unit = units[index]
            pos = state["pos"] if state and index == first else None
            path = self.source.files[unit.file]
            for raw, first_row, after in self.source.read(unit, pos, self.needs):
                frame = self.source.complete(
                    unit.interleave(raw, first_row), path, self._read_schema
                )
                if self._projection is not None:
                    if frame.columns != self._projection:
                        frame = frame.select(self._projection)
                elif self.chain:
                    frame = self.source._run(self._chained(frame).collect)
                yield frame, {"unit": index, "pos": after}

    def _chained(self, frame: pl.DataFrame) -> pl.LazyFrame:
        lazy = frame.lazy()
        if self._placeholders:
            names = self.source.schema.names()
            lazy = lazy.with_columns(self._placeholders).select(names)
        return apply_chain(lazy, self.chain)

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state`` (``None``: the start), each with the state after it.

        Read ahead in a background thread, except local parquet files: Polars' streaming
        reader already decodes ahead in its own threads, and another hop between threads
        only adds latency (measured: 10-30% of a full pass in numpy batches)."""
        if self.source.format == "parquet" and all(local_path(f) for f in self.source.files):
            return self._frames(state)
        return read_ahead(self._frames(state))
