"""Ray Data from our plans: one read task per data file, Features kept, Hub files pinned.

``Dataset.to_ray()`` splits the plan with
:func:`~crucible_polars.integrations.per_file.split_per_file`: when it is a scan of files
with row-local steps on top (a load, then filters, projections, renames, expression
columns), each Ray read task runs that plan over one file with Polars, so
Polars pushes the projection and the filters into its own reader (parquet row groups whose
statistics exclude the filter are skipped inside the task). JSON lines, CSV and text files
are read the same way, through the readers that made the plan. With fewer files than
:data:`TASKS_PER_CPU` per cluster CPU, local parquet files are read in ranges of row
groups. Any other plan (in memory, sorted, gathered, mapped with Python) is read on the
driver, in batches, and handed to Ray with ``ray.data.from_arrow``; a
:class:`DriverReadWarning` says so.

Every block carries the Features as ``huggingface`` schema metadata, so :func:`from_ray`
gives them back. A file of the Hub cache (``datasets--owner--name/snapshots/<commit>/...``)
that a worker does not have is fetched there with ``huggingface_hub`` at that commit, from
the driver's ``HF_ENDPOINT``: every worker reads the same revision.

Ray is an optional dependency (``pip install "crucible-polars[ray]"``); it is imported
only when one of these functions runs.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.errors import ColumnNotFoundError, SchemaMismatchError
from crucible_polars.features import Features
from crucible_polars.formatting import format_batch, to_arrow_table
from crucible_polars.integrations.per_file import (
    FileSplit,
    ReadUnit,
    frame_for,
    read_units,
    split_per_file,
)
from crucible_polars.plan import Plan

if TYPE_CHECKING:
    import pyarrow as pa

ROWS_PER_BLOCK = 65_536
"""Rows per block a read task yields (Polars' batches of one file)."""

TASKS_PER_CPU = 2
"""With fewer files than this many tasks per cluster CPU, parquet files are read in parts
(ranges of row groups), so that a few large files still keep the cluster busy."""

_HUB_CACHE_FILE = re.compile(
    r"datasets--(?P<owner>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<commit>[0-9a-f]{40})/(?P<path>.+)$"
)


class DriverReadWarning(UserWarning):
    """The plan could not be split per file, so the driver reads it for Ray."""


def import_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or an ImportError naming the extra to install.

    Examples
    --------
    >>> import_ray().data is not None  # doctest: +SKIP
    True
    """
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise ImportError(
            'Ray Data is not installed: pip install "crucible-polars[ray]" '
            '(or pip install "ray[data]").'
        ) from error
    return ray


@dataclass(frozen=True)
class HubAccess:
    """How a worker fetches a Hub file it does not have: the endpoint and token to use."""

    endpoint: str
    token: str | bool | None = None

    @classmethod
    def current(cls, token: str | bool | None = None) -> HubAccess:
        """The driver's ``HF_ENDPOINT`` (as ``huggingface_hub`` sees it), with ``token``.

        Examples
        --------
        >>> HubAccess.current().endpoint.startswith("http")
        True
        """
        from huggingface_hub import constants

        return cls(constants.ENDPOINT, token)


def worker_path(file: str, hub: HubAccess) -> str:
    """``file`` as this worker can read it: itself when it exists here (or is a URL), else a
    Hub cache file fetched with ``huggingface_hub`` at the commit in its cache path.

    Examples
    --------
    >>> worker_path("/no/such/file.parquet", HubAccess("http://localhost"))
    '/no/such/file.parquet'
    """
    if "://" in file or os.path.exists(file):
        return file
    match = _HUB_CACHE_FILE.search(file.replace(os.sep, "/"))
    if match is None:
        return file  # the reader names the missing file
    from huggingface_hub import hf_hub_download

    return hf_hub_download(
        f"{match['owner']}/{match['name']}",
        match["path"],
        repo_type="dataset",
        revision=match["commit"],
        endpoint=hub.endpoint,
        token=hub.token,
    )


def read_file_blocks(
    template: str,
    file: str,
    features: Features,
    hub: HubAccess,
    rows_per_block: int,
    columns: list[str] | None = None,
    rows: tuple[int, int] | None = None,
    schema: pl.Schema | None = None,
) -> Iterator[pa.Table]:
    """The blocks of one read task: the plan over ``file`` (its ``rows`` range, only
    ``columns``, when given), as Arrow with ``features`` (those of the columns kept).

    A file whose own types differ from the whole plan's ``schema`` (a CSV or JSON column
    inferred per file) is cast to it; a :class:`SchemaMismatchError` names the file and
    column when that fails.

    Examples
    --------
    >>> import tempfile
    >>> path = f"{tempfile.mkdtemp()}/a.parquet"
    >>> pl.DataFrame({"x": [1, 2]}).write_parquet(path)
    >>> split = split_per_file(pl.scan_parquet([path]))
    >>> blocks = read_file_blocks(split.template, path, Features.from_polars(
    ...     pl.Schema({"x": pl.Int64})), HubAccess("http://localhost"), 10)
    >>> [b.num_rows for b in blocks]
    [2]
    """
    lf = frame_for(template, worker_path(file, hub), rows)
    if columns is not None:
        lf = lf.select(columns)
    empty = True
    for chunk in lf.collect_batches(chunk_size=rows_per_block):
        if chunk.height or empty:
            empty = False
            yield to_arrow_table(_as_schema(chunk, schema, file), features)
    if empty:
        yield to_arrow_table(_as_schema(lf.clear().collect(), schema, file), features)


def _as_schema(frame: pl.DataFrame, schema: pl.Schema | None, file: str) -> pl.DataFrame:
    """``frame`` cast to ``schema`` (the whole plan's), or a SchemaMismatchError naming
    ``file`` and the first column that does not cast."""
    if schema is None or frame.schema == schema:
        return frame
    try:
        return frame.cast(schema, strict=True)
    except (pl.exceptions.PolarsError, ValueError):
        for name, dtype in schema.items():
            got = frame.schema.get(name)
            if got == dtype:
                continue
            try:
                frame.get_column(name).cast(dtype, strict=True)
            except (pl.exceptions.PolarsError, ValueError):
                raise SchemaMismatchError(
                    ["the other files", file], name, str(dtype), str(got)
                ) from None
        raise


def file_read_tasks(
    split: FileSplit,
    features: Features,
    hub: HubAccess,
    rows_per_block: int = ROWS_PER_BLOCK,
    per_task_row_limit: int | None = None,
    columns: list[str] | None = None,
    units: Sequence[ReadUnit] | None = None,
) -> list[Any]:
    """One ``ray.data.ReadTask`` per file of ``split``, or per read unit (a file or a range
    of its row groups, :func:`~crucible_polars.integrations.per_file.read_units`);
    ``per_task_row_limit`` and ``columns`` are Ray's limit and projection pushdown.

    Examples
    --------
    >>> import tempfile
    >>> path = f"{tempfile.mkdtemp()}/a.parquet"
    >>> pl.DataFrame({"x": [1]}).write_parquet(path)
    >>> lf = pl.scan_parquet([path, path])
    >>> features = Features.from_polars(lf.collect_schema())
    >>> len(file_read_tasks(split_per_file(lf), features, HubAccess("http://localhost")))
    2
    """
    import_ray()
    from ray.data import ReadTask
    from ray.data.block import BlockMetadata

    if columns is not None:
        missing = [c for c in columns if c not in features]
        if missing:
            raise ColumnNotFoundError(missing[0] if len(missing) == 1 else missing, list(features))
    kept = features if columns is None else Features({c: features[c] for c in columns})
    schema = kept.to_arrow_schema()
    expected = split.schema
    if expected is not None and columns is not None:
        expected = pl.Schema({c: expected[c] for c in columns})
    tasks = []
    for file, rows in units if units is not None else [(f, None) for f in split.files]:
        size = os.path.getsize(file) if os.path.isfile(file) and rows is None else None
        metadata = BlockMetadata(
            num_rows=None, size_bytes=size, exec_stats=None, input_files=(file,)
        )

        def read(file: str = file, rows: tuple[int, int] | None = rows) -> Iterator[pa.Table]:
            return read_file_blocks(
                split.template, file, kept, hub, rows_per_block, columns, rows, expected
            )

        tasks.append(ReadTask(read, metadata, schema, per_task_row_limit))
    return tasks


def plan_datasource(
    split: FileSplit,
    features: Features,
    hub: HubAccess,
    rows_per_block: int = ROWS_PER_BLOCK,
    units: Sequence[ReadUnit] | None = None,
) -> Any:
    """A ``ray.data.Datasource`` reading ``split`` with one read task per file (or per
    read unit of ``units``).

    Examples
    --------
    >>> import ray  # doctest: +SKIP
    >>> source = plan_datasource(split, features, HubAccess.current())  # doctest: +SKIP
    >>> ray.data.read_datasource(source).count()  # doctest: +SKIP
    """
    sizes = [os.path.getsize(f) for f in split.files if os.path.isfile(f)]

    def tasks(per_task_row_limit: int | None, columns: list[str] | None) -> list[Any]:
        return file_read_tasks(
            split, features, hub, rows_per_block, per_task_row_limit, columns, units
        )

    size = sum(sizes) if len(sizes) == len(split.files) else None
    return ray_datasource("CruciblePolarsFiles", size, tasks, projection=True)


ReadTasks = Callable[[int | None, list[str] | None], list[Any]]
"""``(per_task_row_limit, columns) -> read tasks``: Ray's limit and projection pushdown."""


def ray_datasource(name: str, size: int | None, tasks: ReadTasks, *, projection: bool) -> Any:
    """A ``ray.data.Datasource`` named ``name`` whose read tasks ``tasks`` makes; with
    ``projection``, Ray's column pruning reaches ``tasks`` (else ``columns`` is ``None``).

    Examples
    --------
    >>> source = ray_datasource("Nothing", 0, lambda limit, columns: [], projection=False)
    >>> source.get_name(), source.get_read_tasks(1)
    ('Nothing', [])
    """
    import_ray()
    from ray.data import Datasource

    class Source(Datasource):
        def __init__(self) -> None:
            super().__init__()
            self._projection_map: dict[str, str] | None = None  # Ray's convention

        def get_name(self) -> str:
            return name

        def estimate_inmemory_data_size(self) -> int | None:
            return size

        def supports_projection_pushdown(self) -> bool:
            return projection  # a select_columns on the Ray dataset joins the Polars plan

        def get_read_tasks(
            self,
            parallelism: int,
            per_task_row_limit: int | None = None,
            data_context: Any = None,
        ) -> list[Any]:
            pruned = self.get_projection_map()
            return tasks(per_task_row_limit, list(pruned) if pruned else None)  # {}: count

    return Source()


def plan_to_ray(
    plan: Plan,
    *,
    decode: bool = False,
    token: str | bool | None = None,
    rows_per_block: int = ROWS_PER_BLOCK,
) -> Any:
    """A ``ray.data.Dataset`` of ``plan`` (see the module docstring for how it is read).

    Examples
    --------
    >>> plan = Plan.from_frame(pl.DataFrame({"a": [1, 2]}))
    >>> plan_to_ray(plan).count()  # doctest: +SKIP
    2
    """
    ray = import_ray()
    split = split_per_file(plan.lf)
    features = plan.features
    if split is not None:
        cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
        units = read_units(split, TASKS_PER_CPU * cpus)
        hub = HubAccess.current(token)
        source = plan_datasource(split, features, hub, rows_per_block, units)
        out = ray.data.read_datasource(source, override_num_blocks=len(units))
    else:
        warnings.warn(
            "This plan is not a scan of data files with row-local steps (it is in memory, "
            "sorted, gathered or mapped with Python): the driver reads it and hands the "
            "batches to Ray. Call to_ray() before such steps to read the files in parallel.",
            DriverReadWarning,
            stacklevel=3,
        )
        tables = [to_arrow_table(b, features) for b in plan.batches(rows_per_block)]
        out = ray.data.from_arrow(tables or [to_arrow_table(plan.lf.clear().collect(), features)])
    return decode_media(out, features) if decode else out


def decode_media(ray_ds: Any, features: Features) -> Any:
    """``ray_ds`` with its image and audio columns decoded by our decoders (numpy batches).

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> decode_media("a Ray dataset", Features({"a": Value("int64")}))  # nothing to decode
    'a Ray dataset'
    """
    media = [name for name, f in features.items() if type(f).__name__ in {"Image", "Audio"}]
    if not media:
        return ray_ds

    def decode(table: pa.Table) -> dict[str, Any]:
        import numpy as np

        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        batch = format_batch(frame, features, "numpy")
        out: dict[str, Any] = {}
        for name, values in batch.items():
            if isinstance(values, list):
                array = np.empty(len(values), dtype=object)
                array[:] = values
                values = array
            out[name] = values
        return out

    return ray_ds.map_batches(decode, batch_format="pyarrow")


def iterable_to_ray(
    dataset: Any, *, rows_per_block: int = ROWS_PER_BLOCK, decode: bool = False
) -> Any:
    """A ``ray.data.Dataset`` of an ``IterableDataset``: one read task per shard (whole files
    when it was loaded from files), each iterating its shard with our pipeline.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> stream = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset(num_shards=2)
    >>> iterable_to_ray(stream).count()  # doctest: +SKIP
    2
    """
    ray = import_ray()
    from ray.data import ReadTask
    from ray.data.block import BlockMetadata

    n = dataset.num_shards
    features = dataset.features
    schema = features.to_arrow_schema() if features is not None else None

    def read(index: int) -> Iterator[pa.Table]:
        yield from dataset.shard(n, index).iter(rows_per_block, format="arrow")

    def tasks(per_task_row_limit: int | None, columns: list[str] | None) -> list[Any]:
        metadata = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None)
        return [ReadTask(partial(read, i), metadata, schema, per_task_row_limit) for i in range(n)]

    if decode and features is None:
        raise ValueError(
            "to_ray(decode=True) needs the dataset's Features to find its image and audio "
            "columns, and this stream's are unknown: cast it first, e.g. "
            "ds.cast_column('image', Image())."
        )
    source = ray_datasource("CruciblePolarsShards", None, tasks, projection=False)
    out = ray.data.read_datasource(source, override_num_blocks=n)
    return decode_media(out, features) if decode and features is not None else out


def ray_features(ray_ds: Any) -> Features | None:
    """The Features of a Ray dataset's schema (its ``huggingface`` metadata, else inferred).

    Examples
    --------
    >>> import pyarrow as pa
    >>> class Stub:  # what ray.data.Dataset.schema() returns: a wrapper of the Arrow schema
    ...     def schema(self):
    ...         return type("Schema", (), {"base_schema": pa.schema({"a": pa.int8()})})()
    >>> ray_features(Stub())
    Features({'a': Value('int8')})
    """
    schema = ray_ds.schema()
    base = getattr(schema, "base_schema", schema)
    if base is None or not hasattr(base, "metadata"):
        return None
    features = Features.from_arrow(base)
    return features if list(features) == list(base.names) else None


def ray_to_table(ray_ds: Any) -> pa.Table:
    """All the blocks of a Ray dataset as one Arrow table, gathered on the driver.

    Examples
    --------
    >>> import ray  # doctest: +SKIP
    >>> ray_to_table(ray.data.range(3)).num_rows  # doctest: +SKIP
    3
    """
    import pyarrow as pa

    ray = import_ray()
    tables = ray.get(ray_ds.to_arrow_refs())
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="default")
