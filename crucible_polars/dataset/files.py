"""The file outputs of a :class:`~crucible_polars.Dataset`: ``to_parquet``, ``to_json``,
``to_csv`` (to a path, written atomically, or a binary file object; each returns the bytes
written) and ``save_to_disk`` (``datasets``' layout). Long writes show a progress bar, as
``datasets`` does (:mod:`crucible_polars.progress`).

Examples
--------
>>> import tempfile
>>> from crucible_polars import Dataset
>>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
>>> Dataset.from_dict({"a": [1, 2]}).to_csv(path)
6
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from crucible_polars import save_disk, writers
from crucible_polars.dataset.outputs import DatasetOutputs
from crucible_polars.json_output import holds_json, sink_json_lines, write_json_frames
from crucible_polars.materialize import streamable
from crucible_polars.media.embed import embed_image_files
from crucible_polars.progress import tracked
from crucible_polars.readers.parquet import write_parquet

FILE_BATCH_ROWS = 65_536
"""Rows written at a time to a file path while a progress bar shows (else Polars sinks)."""


class DatasetFiles(DatasetOutputs):
    """Mixin with the file outputs of :class:`~crucible_polars.Dataset` (over its outputs)."""

    def _write(
        self,
        path_or_buf: str | os.PathLike[str] | BinaryIO,
        to_path: Callable[[str], Any],
        to_buffer: Callable[[BinaryIO], Any],
        options: Mapping[str, Any],
    ) -> int:
        """Write to a path (atomically) or a binary file object; the number of bytes written."""
        unknown = [k for k in options if k not in ("batch_size", "num_proc", "storage_options")]
        if unknown:  # pragma: no cover - guarded by the callers' signatures
            raise TypeError(f"Unexpected arguments {unknown}")
        if options.get("storage_options"):
            raise NotImplementedError(
                "storage_options is not supported here: write locally, then upload the file."
            )
        if isinstance(path_or_buf, (str, os.PathLike)):
            target = Path(path_or_buf)
            writers.atomic_write(target, lambda tmp: self._plan.run(lambda: to_path(tmp)))
            return target.stat().st_size
        counter = _CountingWriter(path_or_buf)
        self._plan.run(lambda: to_buffer(counter))  # type: ignore[arg-type]
        return counter.written

    def to_parquet(
        self,
        path_or_buf: str | os.PathLike[str] | BinaryIO,
        batch_size: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """Stream the plan into one parquet file (a path, written atomically, or a binary
        file object), with the features ``datasets`` reads back; returns the bytes written.

        Parameters
        ----------
        path_or_buf
            A file path or a binary file object.
        batch_size
            Rows collected and written at a time (default 65,536).
        storage_options
            Not supported (write locally); give ``None``.
        **kwargs
            Options of the parquet writer (``compression=``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import io, tempfile
        >>> import polars as pl
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> Dataset.from_dict({"a": [1]}).to_parquet(path) > 0
        True
        >>> pl.read_parquet(path)["a"].to_list()
        [1]
        >>> buffer = io.BytesIO()
        >>> Dataset.from_dict({"a": [1]}).to_parquet(buffer) == len(buffer.getvalue())
        True
        """
        plan = streamable(self._plan)
        schema = writers.parquet_arrow_schema(plan, self._info)
        if batch_size:
            kwargs["batch_rows"] = batch_size
        with tracked(plan.known_rows(), "Creating parquet from Arrow format") as bar:
            kwargs["on_rows"] = bar.update
            return self._write(
                path_or_buf,
                lambda tmp: write_parquet(plan.lf, tmp, schema, **kwargs),
                lambda buf: write_parquet(plan.lf, buf, schema, **kwargs),  # type: ignore[arg-type]
                {"storage_options": storage_options},
            )

    def to_json(
        self,
        path_or_buf: str | os.PathLike[str] | BinaryIO,
        batch_size: int | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """Stream the plan into JSON lines (what ``datasets``' ``to_json`` writes), to a path
        or a binary file object; returns the bytes written. ``num_proc`` is accepted for
        ``datasets`` code: Polars writes with all cores.

        Parameters
        ----------
        path_or_buf
            A file path or a binary file object.
        batch_size
            Rows per written batch, when writing to a file object.
        num_proc, storage_options
            ``num_proc`` is accepted and ignored; ``storage_options`` is not supported.
        **kwargs
            ``lines=False`` writes one JSON array; other options go to Polars' JSON writer
            (JSON lines without ``Json`` columns only). ``Json`` values are written decoded
            (``{"c":-1}``), as ``datasets`` writes them.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
        >>> Dataset.from_dict({"a": [1]}).to_json(path)
        8
        >>> open(path).read()
        '{"a":1}\\n'
        """
        plan = streamable(self._plan)
        lines, orient = kwargs.pop("lines", True), kwargs.pop("orient", "records")
        if orient != "records" or kwargs.pop("force_ascii", False):
            raise NotImplementedError(
                "to_json writes records as UTF-8 (orient='records', force_ascii=False); "
                "for other layouts use ds.to_pandas().to_json(...)."
            )
        options, features = {"storage_options": storage_options}, plan.features
        json_values = any(holds_json(f) for f in features.values())
        if (json_values or not lines) and kwargs:  # Json values written decoded, or an array
            raise TypeError(f"to_json got options {sorted(kwargs)} it cannot apply here.")

        with tracked(plan.known_rows(), "Creating json from Arrow format") as bar:

            def to_buffer(buf: BinaryIO, size: int | None = batch_size) -> None:
                if json_values or not lines:
                    frames = self._batches(size)
                    write_json_frames(frames, features, buf, lines=lines, on_rows=bar.update)
                    return
                for frame in self._batches(size):
                    frame.write_ndjson(buf, **kwargs)
                    bar.update(frame.height)

            def to_file(tmp: str) -> None:
                if bar.disable and lines:  # Polars' sink, in Rust (the same bytes)
                    if json_values:
                        return sink_json_lines(plan.lf, features, tmp)
                    return plan.lf.sink_ndjson(tmp, **kwargs)
                with open(tmp, "wb") as file:
                    to_buffer(file, batch_size or FILE_BATCH_ROWS)

            return self._write(path_or_buf, to_file, to_buffer, options)

    def to_csv(
        self,
        path_or_buf: str | os.PathLike[str] | BinaryIO,
        batch_size: int | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """Stream the plan into a CSV file with a header, to a path or a binary file object;
        returns the bytes written.

        Parameters
        ----------
        path_or_buf
            A file path or a binary file object.
        batch_size
            Rows per written batch, when writing to a file object.
        num_proc, storage_options
            ``num_proc`` is accepted and ignored; ``storage_options`` is not supported.
        **kwargs
            Options of Polars' CSV writer (``separator=``, ...); ``index=True`` is refused.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> Dataset.from_dict({"a": [1]}).to_csv(path)
        4
        >>> open(path).read()
        'a\\n1\\n'
        """
        plan = streamable(self._plan)
        if kwargs.pop("index", False):
            raise NotImplementedError(
                "to_csv(index=True) is not supported: a dataset has no index; add one with "
                'ds.with_columns(pl.int_range(pl.len()).alias("index")).'
            )

        with tracked(plan.known_rows(), "Creating CSV from Arrow format") as bar:

            def to_buffer(buf: BinaryIO, size: int | None = batch_size) -> None:
                for index, frame in enumerate(self._batches(size)):
                    frame.write_csv(buf, include_header=index == 0, **kwargs)
                    bar.update(frame.height)

            def to_file(tmp: str) -> None:
                if bar.disable:  # Polars' sink, in Rust (the same bytes)
                    plan.lf.sink_csv(tmp, **kwargs)
                    return
                with open(tmp, "wb") as file:
                    to_buffer(file, batch_size or FILE_BATCH_ROWS)

            return self._write(
                path_or_buf, to_file, to_buffer, {"storage_options": storage_options}
            )

    def save_to_disk(
        self,
        dataset_path: str | os.PathLike[str],
        max_shard_size: str | int | None = None,
        num_shards: int | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        """Save in ``datasets``' layout (Arrow shards, ``state.json``, ``dataset_info.json``)
        to a folder or an fsspec URL; :func:`load_from_disk` and ``datasets.load_from_disk``
        read it back.

        The shards carry the ``huggingface`` metadata, so ``datasets`` gets the same
        Features. The folder appears whole or not at all (a URL: uploaded beside it, then
        moved in with ``state.json`` last).

        Parameters
        ----------
        dataset_path
            The folder, or an fsspec URL (``s3://bucket/x``, ``memory://x``, ``file://...``).
        max_shard_size
            The largest shard (Arrow bytes, or ``"500MB"``, the default), as ``datasets``.
        num_shards
            How many Arrow shard files (instead of ``max_shard_size``).
        num_proc
            The least number of shards, as in ``datasets`` (one process writes them, Polars
            on every core).
        storage_options
            Options of the URL's file system (``fsspec``'s names).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile, crucible_polars as cp
        >>> path = os.path.join(tempfile.mkdtemp(), "saved")
        >>> Dataset.from_dict({"a": [1, 2]}).save_to_disk(path)
        >>> cp.load_from_disk(path)["a"]
        [1, 2]
        >>> Dataset.from_dict({"a": [1, 2]}).save_to_disk("memory://doc/saved", num_shards=2)
        >>> cp.load_from_disk("memory://doc/saved")["a"]
        [1, 2]
        """
        plan = embed_image_files(self._plan)  # the saved copy stands alone, as in datasets
        save_disk.save_dataset(
            plan,
            self._info,
            self._split,
            dataset_path,
            num_shards=num_shards,
            max_shard_size=max_shard_size,
            num_proc=num_proc,
            storage_options=storage_options,
        )


class _CountingWriter(io.RawIOBase):
    """A binary file object that passes writes on and counts the bytes."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self._target = target
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._target.write(view.tobytes())
        self.written += view.nbytes
        return view.nbytes
