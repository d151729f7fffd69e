"""The file outputs of a :class:`~crucible_polars.Dataset`: ``to_parquet``, ``to_json``,
``to_csv`` (to a path or fsspec URL, written atomically, or a binary file object; each
returns the bytes written; :func:`crucible_polars.writers.write_output`) and
``save_to_disk`` (``datasets``' layout). Long writes show a progress bar, as
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

import os
from collections.abc import Callable
from functools import partial
from typing import IO, Any, BinaryIO

import polars as pl

from crucible_polars import save_disk, writers
from crucible_polars.csv_output import (
    csv_options,
    nested_columns,
    with_bool_texts,
    with_nested_texts,
)
from crucible_polars.dataset.outputs import DEFAULT_BATCH_SIZE, DatasetOutputs
from crucible_polars.json_output import (
    holds_json,
    json_options,
    sink_json_lines,
    write_json_frames,
)
from crucible_polars.materialize import streamable
from crucible_polars.media.embed import embed_image_files
from crucible_polars.progress import tracked
from crucible_polars.readers.parquet import parquet_writer_options, write_parquet

FILE_BATCH_ROWS = 65_536
"""Rows written at a time to a file path while a progress bar shows (else Polars sinks)."""

Target = str | bytes | os.PathLike[str] | BinaryIO


def _check_num_proc(num_proc: int | None) -> None:
    if num_proc is not None and num_proc <= 0:
        raise ValueError(f"num_proc {num_proc} must be an integer > 0.")


class DatasetFiles(DatasetOutputs):
    """Mixin with the file outputs of :class:`~crucible_polars.Dataset` (over its outputs)."""

    def _output(
        self,
        path_or_buf: Target,
        write: Callable[[IO[bytes]], Any],
        sink: Callable[[str], Any] | None,
        storage_options: dict[str, Any] | None,
        compression: str | None = None,
    ) -> int:
        """:func:`~crucible_polars.writers.write_output`, Polars' failures explained."""
        output = partial(writers.write_output, path_or_buf, write, sink=sink)
        return self._plan.run(
            lambda: output(storage_options=storage_options, compression=compression)
        )

    def to_parquet(
        self,
        path_or_buf: Target,
        batch_size: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **parquet_writer_kwargs: Any,
    ) -> int:
        """Stream the plan into one parquet file (a path or fsspec URL, written atomically,
        or a binary file object), with the features ``datasets`` reads back; returns the
        bytes written.

        Parameters
        ----------
        path_or_buf
            A file path, an fsspec URL (``s3://bucket/a.parquet``, ``memory://...``,
            ``file://...``) or a binary file object.
        batch_size
            Rows collected and written at a time (a row group; default 65,536).
        storage_options
            Options of the URL's file system (``fsspec``'s names).
        **parquet_writer_kwargs
            Options of ``pyarrow.parquet.ParquetWriter`` (``compression=``, default
            ``zstd``; ``use_content_defined_chunking`` and ``write_page_index`` on by
            default, as ``datasets`` writes); any other name is a ``TypeError``.

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
        options = parquet_writer_options(parquet_writer_kwargs)
        plan = streamable(self._plan)
        schema = writers.parquet_arrow_schema(plan, self._info)
        with tracked(plan.known_rows(), "Creating parquet from Arrow format") as bar:

            def write(where: str | IO[bytes]) -> None:  # a file object, or a local path
                rows = batch_size or FILE_BATCH_ROWS
                write_parquet(
                    plan.lf, where, schema, batch_rows=rows, on_rows=bar.update, **options
                )

            return self._output(path_or_buf, write, write, storage_options)

    def to_json(
        self,
        path_or_buf: Target,
        batch_size: int | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **to_json_kwargs: Any,
    ) -> int:
        """Stream the plan into JSON lines (what ``datasets``' ``to_json`` writes), to a path
        or fsspec URL (written atomically) or a binary file object; returns the bytes
        written (before compression). ``num_proc`` is accepted for ``datasets`` code:
        Polars writes with all cores.

        Parameters
        ----------
        path_or_buf
            A file path, an fsspec URL (``s3://``, ``memory://``, ``file://``...) or a
            binary file object.
        batch_size
            Rows per written batch (65,536).
        num_proc
            Accepted (a positive number) and has no effect.
        storage_options
            Options of the URL's file system (``fsspec``'s names).
        **to_json_kwargs
            pandas' ``to_json`` options as ``datasets`` takes them: ``lines=False`` writes
            one JSON array; ``compression`` (``"infer"`` from the path's extension by default,
            ``"gzip"``, ``"bz2"``, ``"xz"`` or ``None``); ``orient="records"``,
            ``force_ascii=False``, ``index=False``, ``mode="w"``. ``Json`` values are written
            decoded (``{"c":-1}``), as ``datasets`` writes them.

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
        _check_num_proc(num_proc)
        lines, compression = json_options(to_json_kwargs)
        plan = streamable(self._plan)
        features = plan.features
        json_values = any(holds_json(f) for f in features.values())
        with tracked(plan.known_rows(), "Creating json from Arrow format") as bar:

            def write(buf: IO[bytes]) -> None:
                frames = self._batches(batch_size or FILE_BATCH_ROWS)
                if json_values or not lines:
                    write_json_frames(frames, features, buf, lines=lines, on_rows=bar.update)
                    return
                for frame in frames:
                    frame.write_ndjson(buf)
                    bar.update(frame.height)

            def sink(tmp: str) -> None:  # Polars' sink, in Rust (the same bytes)
                if json_values:
                    return sink_json_lines(plan.lf, features, tmp)
                return plan.lf.sink_ndjson(tmp)

            fast = sink if bar.disable and lines else None
            return self._output(path_or_buf, write, fast, storage_options, compression)

    def to_csv(
        self,
        path_or_buf: Target,
        batch_size: int | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **to_csv_kwargs: Any,
    ) -> int:
        """Stream the plan into a CSV file with a header, to a path or fsspec URL (written
        atomically) or a binary file object; returns the bytes written (before compression).

        Lists, arrays and structs are written as ``datasets`` writes them (through pandas):
        the text of their Python values (``[1 2]``, ``{'x': 1}``; see
        :mod:`crucible_polars.csv_output`). Booleans are ``True`` / ``False``.

        Parameters
        ----------
        path_or_buf
            A file path, an fsspec URL (``s3://``, ``memory://``, ``file://``...) or a
            binary file object.
        batch_size
            Rows per written batch (65,536; 1,000 when lists or structs are written, as
            ``datasets`` writes them).
        num_proc
            Accepted (a positive number) and has no effect.
        storage_options
            Options of the URL's file system (``fsspec``'s names).
        **to_csv_kwargs
            pandas' ``to_csv`` options as ``datasets`` takes them (``sep``, ``na_rep``,
            ``header``, ``columns``, ``quoting``, ``quotechar``, ``lineterminator``,
            ``float_format="%.3f"``, ``date_format``, ``compression``), or Polars' CSV writer
            options (``separator``, ``null_value``, ``quote_style``...); ``index=True`` is
            refused and any other name is a ``TypeError``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> Dataset.from_dict({"a": [1], "b": [[1, 2]]}).to_csv(path)
        12
        >>> open(path).read()
        'a,b\\n1,[1 2]\\n'
        """
        _check_num_proc(num_proc)
        plan = streamable(self._plan)
        options = csv_options(to_csv_kwargs, list(plan.features))
        features = plan.features
        renames = dict(zip(options.columns, options.names, strict=True))
        nested = nested_columns(plan.lf.select(options.columns).collect_schema())
        polars = {"include_header": options.header, **options.polars}
        # datasets' batches when NumPy writes values (its dtypes are chosen batch by batch)
        size = batch_size or (DEFAULT_BATCH_SIZE if nested else FILE_BATCH_ROWS)

        def prepared(frame: pl.DataFrame) -> pl.DataFrame:
            frame = with_nested_texts(frame.select(options.columns), features)
            return with_bool_texts(frame).rename(renames)

        with tracked(plan.known_rows(), "Creating CSV from Arrow format") as bar:

            def write(buf: IO[bytes]) -> None:
                first = True
                for frame in self._batches(size):
                    header = first and options.header
                    prepared(frame).write_csv(buf, **{**polars, "include_header": header})
                    first = False
                    bar.update(frame.height)
                if first:  # no rows: the header alone, as datasets writes it
                    empty = plan.lf.select(options.columns).clear().collect()
                    prepared(empty).write_csv(buf, **polars)

            def sink(tmp: str) -> None:  # Polars' sink, in Rust (the same bytes)
                lf = with_bool_texts(plan.lf.select(options.columns)).rename(renames)
                lf.sink_csv(tmp, **polars)

            fast = sink if bar.disable and not nested else None
            return self._output(path_or_buf, write, fast, storage_options, options.compression)

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
