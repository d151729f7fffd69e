"""Random access: rows by position, from a plan's rows materialized once as Arrow.

``ds[i]``, ``ds[list]``, ``select`` / ``shuffle`` followed by any read, ``__getitems__`` (the
torch DataLoader's batched fetch) and iteration over a shuffled dataset read rows by
position. A Polars gather query costs a scan of the whole plan each time (and Polars'
streaming engine can panic on a gather over a large frame), so the first access that needs
positions writes the plan's rows once as Arrow IPC and memory-maps them; every later access is
a zero-copy ``pyarrow.Table.take``, as fast as ``datasets``' memory-mapped Arrow, and a
``map`` in the plan runs once per row, at that moment, never again on access.

The rows are written where :func:`cache_folder` says, named by a fingerprint of the plan and
of its data files' sizes and times (a changed file gives new rows), atomically (a temporary
name renamed into place), and reused by later accesses, other processes and later runs;
``cp.cache`` can remove them. A plan whose fingerprint cannot be taken (it calls a Python
function) is written under a name of this process only. Plans over rows already in memory
(``from_dict``, ``from_polars`` of a DataFrame) keep them in memory.

What needs materialized rows: a gather (any non-contiguous choice of rows), or a plan read
by position more than :data:`DIRECT_READS` times; the first contiguous reads (``ds[0]``,
``ds[:10]``) stay Polars slices, which reach the scan and read next to nothing (a ``map``
function runs on the batches they cover only).

Everything here runs without Polars' thread pool once the rows are materialized, so it works
in forked processes (a torch DataLoader's workers under the default ``fork`` start method).

Examples
--------
>>> import numpy as np, polars as pl
>>> from crucible_polars.plan import Plan
>>> from crucible_polars.ops.sampling import shuffle
>>> plan = shuffle(Plan.from_frame(pl.DataFrame({"a": [5, 6, 7]})), seed=0)
>>> take_rows(plan, np.array([0, 2]), ["a"])["a"].to_list()
[7, 6]
"""

from __future__ import annotations

import atexit
import hashlib
import os
import uuid
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc

from crucible_polars.arrow_files import frame_from_arrow, map_arrow_file, take_rows_of, unmapped
from crucible_polars.features.storage import frame_to_arrow
from crucible_polars.ipc_write import write_ipc
from crucible_polars.plan import Plan, rows_plan
from crucible_polars.progress import tracked
from crucible_polars.sources.open import cache_root

DIRECT_READS = 16
"""Contiguous reads by position answered with Polars queries before the plan materializes."""

IN_MEMORY_BYTES = 64 << 20
"""Rows gathered from materialized rows stay in memory below this size, else are mapped."""

MATERIALIZED_FOLDER = "materialized"
_PROCESS_FILES: list[Path] = []
_READ_BY_WORKERS: weakref.WeakSet[Plan] = weakref.WeakSet()


def will_be_read_by_workers(plan: Plan, caller_module: str) -> None:
    """Remember ``plan`` for materializing before a fork when ``caller_module`` is torch's
    data package (``len(ds)`` from a DataLoader's sampler).

    Parameters
    ----------
    plan
        The dataset's plan.
    caller_module
        The module that asked for the length.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
    >>> will_be_read_by_workers(plan, "__main__")
    >>> plan in _READ_BY_WORKERS
    False
    """
    if caller_module.startswith("torch.utils.data"):
        _READ_BY_WORKERS.add(plan)


def prepare_for_workers() -> None:
    """Materialize the rows of every plan a DataLoader will read, before its workers fork.

    Polars' thread pool does not survive ``fork``; materialized rows are read with pyarrow
    alone, which does. Registered with :func:`os.register_at_fork`.
    """
    for plan in list(_READ_BY_WORKERS):
        materialize(plan.gather.base if plan.gather is not None else plan)
    _READ_BY_WORKERS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=prepare_for_workers)


def cache_folder() -> Path:
    """Where materialized rows are kept: ``materialized/`` in the crucible_polars cache.

    Examples
    --------
    >>> cache_folder().name
    'materialized'
    """
    return cache_root() / MATERIALIZED_FOLDER


def take_rows(plan: Plan, indices: np.ndarray, columns: Sequence[str]) -> pl.DataFrame:
    """The rows of ``plan`` at ``indices`` (validated, non-negative), only ``columns``.

    Parameters
    ----------
    plan
        The plan to read.
    indices
        Row positions, in the order wanted (repeats allowed).
    columns
        The columns to return.

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [5, 6, 7], "b": [1, 2, 3]}))
    >>> take_rows(plan, np.array([1]), ["b"]).to_dicts()
    [{'b': 2}]
    """
    names = list(columns)
    indices = np.asarray(indices, dtype=np.int64)
    base, positions = plan, indices
    if plan.gather is not None:
        base, positions = plan.gather.base, plan.gather.indices[indices]
    rows = materialized(base)
    if rows is None:
        if not _needs_rows(base, positions):
            query = _positions_query(base.lf.select(names), positions)
            return base.run(lambda: query.collect(engine="in-memory"))
        rows = materialize(base)
    table = rows.table
    assert table is not None
    return frame_from_arrow(take_rows_of(table.select(names), positions))


def take_python_rows(
    plan: Plan, indices: np.ndarray | None = None, columns: Sequence[str] | None = None
) -> list[dict[str, object]] | None:
    """The rows at ``indices`` as Python dicts straight from materialized rows, when the plan
    has them and the columns hold nothing to decode (images, audio, ``Json``); else ``None``.

    The fast path of ``ds[i]``: one ``take`` and ``to_pylist``, no Polars frame in between.
    ``indices`` default to every row, ``columns`` to every column.

    Examples
    --------
    >>> plan = materialize(Plan.from_frame(pl.DataFrame({"a": [5, 6, 7]})))
    >>> take_python_rows(plan, np.array([2]), ["a"])
    [{'a': 7}]
    """
    if indices is None:
        indices = np.arange(plan.row_count(), dtype=np.int64)
    columns = list(plan.features) if columns is None else columns
    base, positions = plan, np.asarray(indices, dtype=np.int64)
    if plan.gather is not None:
        base, positions = plan.gather.base, plan.gather.indices[positions]
    rows = materialized(base)
    if rows is None or rows.table is None or _has_media(plan, columns):
        return None
    return take_rows_of(rows.table.select(list(columns)), positions).to_pylist()


def _has_media(plan: Plan, columns: Sequence[str]) -> bool:
    def check() -> dict[str, bool]:
        return {
            name: any(kind in str(feature) for kind in ("Image(", "Audio(", "Video(", "Json("))
            for name, feature in plan.features.items()
        }

    media = plan.memo("media columns", check)
    return any(media[c] for c in columns)


def materialized(plan: Plan) -> Plan | None:
    """The plan's materialized rows if they were made already (``None`` otherwise).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1]}))
    >>> materialized(plan) is None, materialized(materialize(plan)) is not None
    (True, True)
    """
    if plan.table is not None:
        return plan
    made = plan.recall("materialized")
    return made if isinstance(made, Plan) else None


def iter_frames(
    plan: Plan, batch_size: int, columns: Sequence[str], *, drop_last_batch: bool = False
) -> Iterator[pl.DataFrame]:
    """The plan's rows in exact batches: from materialized rows for a gathered or materialized
    plan (never a streaming gather), else from Polars' streaming engine.

    Parameters
    ----------
    plan
        The plan to read.
    batch_size
        Rows per batch (the last one may be smaller).
    columns
        The columns to return.
    drop_last_batch
        Drop a last batch smaller than ``batch_size``.

    Examples
    --------
    >>> from crucible_polars.ops.sampling import shuffle
    >>> plan = shuffle(Plan.from_frame(pl.DataFrame({"a": range(5)})), seed=0)
    >>> [f["a"].to_list() for f in iter_frames(plan, 2, ["a"])]
    [[2, 4], [3, 0], [1]]
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
    if plan.gather is None and materialized(plan) is None:
        lf = plan.lf.select(list(columns))
        yield from plan.batches(batch_size, drop_last_batch=drop_last_batch, lf=lf)
        return
    total = plan.row_count()
    stop = total - total % batch_size if drop_last_batch else total
    for start in range(0, stop, batch_size):
        positions = np.arange(start, min(start + batch_size, stop), dtype=np.int64)
        yield take_rows(plan, positions, columns)


def collect_rows(plan: Plan, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """All rows of ``plan`` (a gathered plan from its base's materialized rows).

    Examples
    --------
    >>> from crucible_polars.ops.sampling import shuffle
    >>> plan = shuffle(Plan.from_frame(pl.DataFrame({"a": range(3)})), seed=0)
    >>> collect_rows(plan)["a"].to_list()
    [2, 0, 1]
    """
    names = list(plan.features) if columns is None else list(columns)
    if plan.gather is None and materialized(plan) is None:
        return plan.collect(None if columns is None else plan.lf.select(names))
    return take_rows(plan, np.arange(plan.row_count(), dtype=np.int64), names)


def picklable(plan: Plan) -> Plan:
    """A plan that pickles: one that runs Python (a ``map`` function, which Polars cannot
    serialize) is materialized first, and its rows travel by the file they are mapped from.

    Examples
    --------
    >>> import pickle
    >>> plan = Plan.from_frame(pl.LazyFrame({"a": [1]}).map_batches(lambda df: df))
    >>> pickle.loads(pickle.dumps(picklable(plan))).collect()["a"].to_list()
    [1]
    """
    base = plan.gather.base if plan.gather is not None else plan
    if base.table is None and base.runs_python():
        materialize(base)
        if plan.gather is None:
            return materialize(plan)
    return plan


def streamable(plan: Plan) -> Plan:
    """A plan Polars' streaming engine can run: a gathered plan is first materialized in its
    order (a streaming gather can panic on large frames); others as they are.

    Examples
    --------
    >>> from crucible_polars.ops.sampling import shuffle
    >>> plan = shuffle(Plan.from_frame(pl.DataFrame({"a": range(3)})), seed=0)
    >>> streamable(plan).gather is None
    True
    """
    return materialize(plan) if plan.gather is not None else plan


def materialize(plan: Plan) -> Plan:
    """The plan's rows, run once into Arrow: later reads, gathers and shuffles use them
    instead of running the plan (and any Python function in it) again.

    A gathered plan is written in its new order (``datasets``' ``flatten_indices``).

    Parameters
    ----------
    plan
        The plan to run.

    Examples
    --------
    >>> plan = materialize(Plan.from_frame(pl.LazyFrame({"a": [1, 2]})))
    >>> plan.num_rows, plan.table.num_rows
    (2, 2)
    """
    made = materialized(plan)
    if made is not None:
        return made
    return plan.remember("materialized", _materialize(plan))


def _materialize(plan: Plan) -> Plan:
    if plan.gather is not None:
        base = materialize(plan.gather.base)
        assert base.table is not None
        return _gathered(plan, base.table, plan.gather.indices)
    if not plan.sources and not plan.runs_python():  # rows already in memory
        frame = plan.collect()
        return rows_plan(frame_to_arrow(frame), plan.features, plan.sources)
    path = cache_folder() / f"{_fingerprint(plan)}.arrow"
    if not path.is_file():
        write_ipc(plan, path)
    return rows_plan(map_arrow_file(str(path)), plan.features, plan.sources)


def _gathered(plan: Plan, table: pa.Table, indices: np.ndarray) -> Plan:
    """The rows of ``table`` at ``indices`` in that order: in memory when small, else written
    a chunk of rows at a time to a file of this process and mapped (memory stays bounded)."""
    per_row = table.nbytes / max(table.num_rows, 1)
    if per_row * indices.size < IN_MEMORY_BYTES:
        taken = unmapped(take_rows_of(table, indices))  # rows of no file
        return rows_plan(taken, plan.features, plan.sources)
    path = cache_folder() / f"{uuid.uuid4().hex}.arrow"
    _process_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    step = max(1, int(IN_MEMORY_BYTES // 8 / max(per_row, 1)))
    with (
        tracked(int(indices.size), "Flattening the indices") as bar,
        pyarrow.ipc.new_file(str(tmp), table.schema) as writer,
    ):
        for start in range(0, indices.size, step):
            writer.write_table(take_rows_of(table, indices[start : start + step]))
            bar.update(min(step, indices.size - start))
    os.replace(tmp, path)
    return rows_plan(map_arrow_file(str(path)), plan.features, plan.sources)


def _fingerprint(plan: Plan) -> str:
    """A name for the plan's rows: its serialized plan and its files' sizes and times, or a
    name of this process when the plan cannot be serialized (it calls Python)."""
    try:
        serialized = plan.lf.serialize()
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        name = f"process-{os.getpid()}-{uuid.uuid4().hex}"
        _process_file(cache_folder() / f"{name}.arrow")
        return name
    digest = hashlib.sha256(serialized)
    for source in plan.sources:
        try:
            stat = os.stat(source)
        except OSError:
            digest.update(source.encode())
            continue
        digest.update(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def _process_file(path: Path) -> None:
    """Remove ``path`` when this process exits (rows no other process can name)."""
    if not _PROCESS_FILES:
        atexit.register(_remove_process_files)
    _PROCESS_FILES.append(path)


def _remove_process_files() -> None:
    for path in _PROCESS_FILES:
        path.unlink(missing_ok=True)


def _needs_rows(base: Plan, positions: np.ndarray) -> bool:
    """Whether reading ``positions`` should materialize ``base`` first."""
    if not _is_run(positions):
        return True
    reads = base.memo("direct reads", lambda: [0])
    reads[0] += 1
    return reads[0] > DIRECT_READS


def _is_run(positions: np.ndarray) -> bool:
    return bool(
        positions.size == 0
        or (positions[-1] - positions[0] == positions.size - 1 and np.all(np.diff(positions) == 1))
    )


def _positions_query(lf: pl.LazyFrame, positions: np.ndarray) -> pl.LazyFrame:
    """A contiguous run as a slice (it reaches the scan)."""
    if not positions.size:
        return lf.head(0)
    return lf.slice(int(positions[0]), int(positions.size))
