"""Parquet, streamed row group by row group, fetching only the byte ranges it decodes.

The footer is read once per file (one suffix-range request for remote files) and kept in a
small cache. Row groups whose statistics cannot satisfy the pushed-down filter are skipped
without fetching anything (pyarrow evaluates the statistics). A remote file's row groups are
then read with pyarrow over range requests, for the projected columns only (one coalesced
request per row group); a local file's runs of consecutive row groups go through Polars'
own streaming parquet reader (one query per run), which decodes faster and in Polars'
threads.

Measured on the test Hub (see ``benchmarks/bench_streaming.py`` and the module
``crucible_polars.streaming``): pyarrow over range requests fetches exactly the column chunks
it decodes, whereas Polars' remote reader coalesces neighbouring columns (74% of a file for
one column of four), reads ahead several row groups (23% of a file for its first batch) and
fetches the footer again for every sliced scan.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
>>> pl.DataFrame({"x": list(range(10))}).write_parquet(path, row_group_size=4)
>>> reader = ParquetReader(path)
>>> reader.row_group_bounds()
[(0, 4), (4, 8), (8, 10)]
>>> frames = list(reader.frames(start=3, stop=6))  # (frame, the row that follows it)
>>> [x for f, _ in frames for x in f["x"]], frames[-1][1]
([3, 4, 5], 6)
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from crucible_polars.errors import CrucibleError, DataFileError, StreamChecksumError
from crucible_polars.streaming.ranges import ByteSource, RangeFile, local_path, open_bytes

FRAME_ROWS = 16_384
"""Rows per frame decoded from a row group (a row group is decoded in frames this size)."""

LATER_FRAMES = 4
"""Local files: frames after the first row group are this many times larger (fewer frames,
less overhead per row)."""

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], ParquetMeta] = OrderedDict()
_pruned: OrderedDict[tuple[Any, ...], set[int] | None] = OrderedDict()
_sources: OrderedDict[tuple[str, Any], ByteSource] = OrderedDict()
_cache_lock = threading.Lock()


def _remote(
    path: str, storage_options: Mapping[str, Any] | None, token: str | bool | None
) -> ByteSource:
    """The byte source of a remote file, kept (with its size and footer bytes) for reuse."""
    key = (path, token)  # a source sends its token: one per token
    with _cache_lock:
        source = _sources.get(key)
        if source is not None:
            _sources.move_to_end(key)
            return source
    source = open_bytes(path, storage_options, token)
    with _cache_lock:
        _sources[key] = source
        while len(_sources) > _CACHE_SIZE:
            _sources.popitem(last=False)
    return source


def forget(path: str) -> None:
    """Drop what is kept of a remote file (its byte sources, footer, pruning) after its
    bytes were found not to match the repository's file listing.

    Examples
    --------
    >>> forget("https://example.com/never-read.parquet")
    """
    with _cache_lock:
        for key in [k for k in _sources if k[0] == path]:
            _sources.pop(key).forget()
        _cache.pop((path,), None)
        for key in [k for k in _pruned if k[0] == path]:
            del _pruned[key]


@dataclass(frozen=True)
class ParquetMeta:
    """A parquet file's footer, and where its row groups start."""

    metadata: Any
    arrow_schema: pa.Schema
    row_starts: tuple[int, ...]

    @property
    def num_rows(self) -> int:
        """Rows in the file."""
        return self.row_starts[-1]


def _cache_key(path: str) -> tuple[Any, ...]:
    local = local_path(path)
    if local is not None:
        stat = os.stat(local)
        return (local, stat.st_size, stat.st_mtime_ns)
    return (path,)


def read_meta(
    path: str,
    storage_options: Mapping[str, Any] | None = None,
    token: str | bool | None = None,
    source: ByteSource | None = None,
) -> ParquetMeta:
    """The footer of a parquet file (local path or URL), cached per file.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> pl.DataFrame({"x": [1, 2, 3]}).write_parquet(path)
    >>> read_meta(path).num_rows
    3
    """
    key = _cache_key(path)
    with _cache_lock:
        meta = _cache.get(key)
        if meta is not None:
            _cache.move_to_end(key)
            return meta
    local = local_path(path)
    if local is not None:
        metadata = pq.read_metadata(local)
    else:
        source = source or _remote(path, storage_options, token)  # reused: its tail is cached
        try:
            source.read_tail()
            metadata = pq.read_metadata(RangeFile(source))
        except StreamChecksumError:
            forget(path)
            raise
    starts = [0]
    for i in range(metadata.num_row_groups):
        starts.append(starts[-1] + metadata.row_group(i).num_rows)
    meta = ParquetMeta(metadata, metadata.schema.to_arrow_schema(), tuple(starts))
    with _cache_lock:
        _cache[key] = meta
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return meta


def polars_schema(arrow_schema: pa.Schema) -> pl.Schema:
    """The Polars schema of frames converted from batches of ``arrow_schema``.

    Examples
    --------
    >>> polars_schema(pa.schema([("s", pa.string())]))
    Schema([('s', String)])
    """
    empty = pa.RecordBatch.from_arrays(
        [pa.nulls(0, type=f.type) for f in arrow_schema], schema=arrow_schema
    )
    frame = pl.from_arrow(empty)  # a batch, not a table: tables make Polars import pandas
    assert isinstance(frame, pl.DataFrame)
    return frame.schema


class ParquetReader:
    """Reads one parquet file by row groups: projection, statistics pruning, row ranges.

    Parameters
    ----------
    path
        A local path or a URL (HTTP(S) range requests, or any fsspec URL).
    storage_options, token
        For fsspec URLs, and for the Hub (the token is sent only to the Hub endpoint).
    """

    def __init__(
        self,
        path: str,
        storage_options: Mapping[str, Any] | None = None,
        token: str | bool | None = None,
    ) -> None:
        self.path = path
        self._local = local_path(path)
        self._source = None if self._local is not None else _remote(path, storage_options, token)
        self.meta = read_meta(path, storage_options, token, self._source)

    def row_group_bounds(self) -> list[tuple[int, int]]:
        """``(first_row, end_row)`` of every row group."""
        starts = self.meta.row_starts
        return [(starts[i], starts[i + 1]) for i in range(len(starts) - 1)]

    def _file(self) -> Any:
        if self._local is not None:
            return self._local
        assert self._source is not None
        return pa.PythonFile(RangeFile(self._source), mode="r")

    def matching_row_groups(self, predicate: Any) -> set[int] | None:
        """Row groups whose statistics may satisfy the Arrow ``predicate`` (``None``: all).

        Reads nothing more than the footer already read.
        """
        if predicate is None:
            return None
        key = (*_cache_key(self.path), str(predicate))
        with _cache_lock:
            if key in _pruned:
                return _pruned[key]
        keep = self._matching_row_groups(predicate)
        with _cache_lock:
            _pruned[key] = keep
            while len(_pruned) > _CACHE_SIZE:
                _pruned.popitem(last=False)
        return keep

    def _matching_row_groups(self, predicate: Any) -> set[int] | None:
        import pyarrow.dataset as pds

        try:
            if self._local is not None:
                from pyarrow.fs import LocalFileSystem

                fragment = pds.ParquetFileFormat().make_fragment(self._local, LocalFileSystem())
            else:
                fragment = pds.ParquetFileFormat().make_fragment(self._file())
            subset = fragment.subset(filter=predicate, schema=self.meta.arrow_schema)
            return {rg.id for rg in subset.row_groups}
        except (pa.ArrowException, ValueError, TypeError, KeyError):
            return None  # e.g. a filtered column missing from this file: read everything

    def frames(
        self,
        *,
        row_groups: Sequence[int] | None = None,
        start: int = 0,
        stop: int | None = None,
        columns: Sequence[str] | None = None,
        predicate: Any = None,
        frame_rows: int = FRAME_ROWS,
    ) -> Iterator[tuple[pl.DataFrame, int]]:
        """Frames of the file's rows ``[start, stop)``, each with the row that follows it.

        Row groups not in ``row_groups`` are left out; those that ``predicate`` rules out by
        their statistics are skipped (no frame). Columns missing from the file are left out
        of the frames (the caller completes them).
        """
        bounds = self.row_group_bounds()
        stop = self.meta.num_rows if stop is None else min(stop, self.meta.num_rows)
        wanted = range(len(bounds)) if row_groups is None else row_groups
        todo = [rg for rg in wanted if bounds[rg][1] > start and bounds[rg][0] < stop]
        if not todo:
            return
        keep = self.matching_row_groups(predicate)
        if keep is not None:
            todo = [rg for rg in todo if rg in keep]
            if not todo:
                return
        names = set(self.meta.arrow_schema.names)
        read_columns = None if columns is None else [c for c in columns if c in names]
        if self._local is not None:
            yield from self._local_frames(todo, start, stop, read_columns, frame_rows)
            return
        try:
            for rg in todo:
                position = bounds[rg][0]
                for batch in self._row_group(rg, read_columns, frame_rows):
                    first, position = position, position + batch.num_rows
                    if position <= start:
                        continue
                    begin, end = max(first, start), min(position, stop)
                    if end > begin:
                        yield _to_frame(batch.slice(begin - first, end - begin)), end
                    if position >= stop:
                        return
        except StreamChecksumError:
            forget(self.path)  # nothing read of a file found wrong is kept
            raise

    def _row_group(
        self, rg: int, columns: list[str] | None, frame_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """A remote row group's batches. Its bytes are fetched afresh for each read, so one
        that fails to decode (a page checksum, a damaged page) is read once more, from the
        row it had reached, before a :class:`~crucible_polars.errors.DataFileError`."""
        done = 0
        for attempt in (1, 2):
            parquet = pq.ParquetFile(
                self._file(),
                metadata=self.meta.metadata,
                pre_buffer=True,
                page_checksum_verification=True,
            )
            try:
                seen = 0
                for batch in parquet.iter_batches(
                    batch_size=frame_rows, row_groups=[rg], columns=columns, use_threads=True
                ):
                    seen += batch.num_rows
                    if seen > done:
                        fresh = batch.slice(batch.num_rows - (seen - done))
                        done = seen
                        yield fresh
                return
            except CrucibleError:
                raise
            except (pa.ArrowException, OSError) as error:
                if self._source is not None:
                    self._source.reread()
                if attempt == 2:
                    raise DataFileError(
                        self.path,
                        f"row group {rg} cannot be decoded, also when read again ({error}); "
                        "the file is damaged or was changed on the way: load it without "
                        "streaming=True to check it against the repository's file listing",
                    ) from error
            finally:
                parquet.close()

    def _local_frames(
        self,
        row_groups: Sequence[int],
        start: int,
        stop: int,
        columns: list[str] | None,
        frame_rows: int,
    ) -> Iterator[tuple[pl.DataFrame, int]]:
        """A local file's row groups through Polars' streaming parquet reader: one query per
        run of consecutive row groups (it reads a local file faster than pyarrow, and decodes
        in Polars' threads while the consumer works). The first row group read is a query of
        its own, in small frames, so the first rows come quickly; later frames are larger."""
        assert self._local is not None
        bounds = self.row_group_bounds()
        runs: list[list[int]] = []
        for rg in row_groups:
            lo, hi = max(bounds[rg][0], start), min(bounds[rg][1], stop)
            if len(runs) > 1 and runs[-1][1] == lo == bounds[rg][0]:
                runs[-1][1] = hi
            else:
                runs.append([lo, hi])
        scan = pl.scan_parquet(self._local, hive_partitioning=False, glob=False)
        if columns is not None:
            scan = scan.select(columns or self.meta.arrow_schema.names[:1])
        for number, (lo, hi) in enumerate(runs):
            position = lo
            size = frame_rows if number == 0 else frame_rows * LATER_FRAMES
            for frame in scan.slice(lo, hi - lo).collect_batches(chunk_size=size):
                position += frame.height
                yield frame, position


def _to_frame(batch: pa.RecordBatch) -> pl.DataFrame:
    if batch.num_columns == 0:
        return pl.DataFrame(height=batch.num_rows)
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame
