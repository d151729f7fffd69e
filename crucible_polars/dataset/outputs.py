"""The output methods of :class:`~crucible_polars.Dataset`: batches, formats, collections and
files (media decoded only for the rows and columns that leave the plan)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import polars as pl

from crucible_polars import integrations, save_disk, writers
from crucible_polars.dataset.state import DatasetState
from crucible_polars.formatting import check_format, format_batch, to_python_rows
from crucible_polars.json_output import holds_json, sink_json_lines, write_json_frames
from crucible_polars.materialize import collect_rows, iter_frames, streamable, take_python_rows
from crucible_polars.media.embed import embed_image_files
from crucible_polars.readers.parquet import write_parquet

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class DatasetOutputs(DatasetState):
    """Mixin with the output methods of :class:`~crucible_polars.Dataset`."""

    def iter(
        self,
        batch_size: int,
        drop_last_batch: bool = False,
        *,
        format: str | None = None,
        columns: Sequence[str] | None = None,
        image_size: tuple[int, int] | None = None,
    ) -> Iterator[Any]:
        """Iterate batches of ``batch_size`` rows in a format (python, numpy, polars, arrow, torch).

        Parameters
        ----------
        batch_size
            Rows per batch; the last batch may be smaller unless ``drop_last_batch``.
        format
            Output format; defaults to the one set by :meth:`with_format` (python).
        columns
            Only these columns (projection reaches the scan).
        image_size
            ``(width, height)`` to resize decoded images to (ours, not in ``datasets``).
        drop_last_batch
            Drop a last batch shorter than ``batch_size``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": list(range(5))})
        >>> [b["a"].tolist() for b in ds.iter(2, format="numpy")]
        [[0, 1], [2, 3], [4]]
        """
        fmt = check_format(format) if format is not None else self._format
        features = self._output_features(columns)
        plan = self._plan
        offset = 0
        frames = iter_frames(plan, batch_size, list(features), drop_last_batch=drop_last_batch)
        for frame in frames:
            yield plan.run(
                partial(self._format_frame, frame, features, fmt, offset, image_size=image_size)
            )
            offset += frame.height

    # ------------------------------------------------------------------ outputs
    def _batches(self, batch_size: int | None) -> Iterator[pl.DataFrame]:
        """The plan's rows as frames of ``batch_size`` (default 1000, as ``datasets``)."""
        plan, size = self._plan, batch_size or DEFAULT_BATCH_SIZE
        yield from iter_frames(plan, size, list(plan.features))

    def to_polars(
        self,
        batch_size: int | None = None,
        batched: bool = False,
        schema_overrides: Mapping[str, Any] | None = None,
        rechunk: bool = True,
    ) -> pl.DataFrame | Iterator[pl.DataFrame]:
        """Run the plan into a Polars DataFrame (images stay ``{bytes, path}`` structs).

        Parameters
        ----------
        batch_size, batched
            With ``batched=True``, an iterator of frames of ``batch_size`` rows (1000).
        schema_overrides
            Cast these columns (``{name: polars dtype}``).
        rechunk
            Make each frame contiguous in memory.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1]}).to_polars().shape
        (1, 1)
        >>> [f.height for f in Dataset.from_dict({"a": [1, 2, 3]}).to_polars(2, batched=True)]
        [2, 1]
        """

        def finish(frame: pl.DataFrame) -> pl.DataFrame:
            if schema_overrides:
                frame = frame.with_columns(
                    pl.col(name).cast(dtype) for name, dtype in schema_overrides.items()
                )
            return frame.rechunk() if rechunk else frame

        if batched:
            return (finish(frame) for frame in self._batches(batch_size))
        return finish(collect_rows(self._plan))

    def head(self, n: int = 5) -> pl.DataFrame:
        """The first ``n`` rows as a Polars DataFrame (Polars' ``head``; only those rows are
        read). Images stay ``{bytes, path}`` structs.

        Parameters
        ----------
        n
            How many rows.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2, 3]}).head(2)["a"].to_list()
        [1, 2]
        """
        return self._plan.collect(self._plan.lf.head(n))

    def to_pandas(
        self, batch_size: int | None = None, batched: bool = False
    ) -> pd.DataFrame | Iterator[pd.DataFrame]:
        """Run the plan into a pandas DataFrame, through Arrow as ``datasets`` does (pandas
        is optional: install it to use this).

        Parameters
        ----------
        batch_size, batched
            With ``batched=True``, an iterator of frames of ``batch_size`` rows (1000).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).to_pandas()["a"].tolist()
        [1, 2]
        """
        features = self._plan.features
        if batched:
            return (format_batch(frame, features, "pandas") for frame in self._batches(batch_size))
        result: pd.DataFrame = format_batch(collect_rows(self._plan), features, "pandas")
        return result

    def to_arrow(self) -> pa.Table:
        """Run the plan into an Arrow table carrying the ``huggingface`` features metadata.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1]}).to_arrow().num_rows
        1
        """
        return format_batch(collect_rows(self._plan), self._plan.features, "arrow")

    def to_ray(self, *, decode: bool = False, token: str | bool | None = None) -> Any:
        """A ``ray.data.Dataset`` read from the plan by the cluster, one read task per file.

        A loaded split, with filters, projections, renames and expression columns on top,
        is read per file inside the Ray tasks (Polars pushes the projection and filters into
        its reader); any other plan is read on the driver and handed to Ray, with a
        :class:`~crucible_polars.integrations.ray_data.DriverReadWarning`. The Features
        travel as schema metadata (:meth:`Dataset.from_ray` gives them back).

        Parameters
        ----------
        decode
            Decode image and audio columns with our decoders in ``map_batches`` (numpy);
            by default they stay ``{bytes, path}``.
        token
            The Hub token a worker sends when it fetches a Hub file it does not have;
            default: the worker's own ``HF_TOKEN`` / login.

        Raises
        ------
        ImportError
            Ray Data is missing (``pip install "crucible-polars[ray]"``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).to_ray().count()  # doctest: +SKIP
        2
        """
        return integrations.ray_data.plan_to_ray(self._plan, decode=decode, token=token)

    def to_numpy(
        self, columns: Sequence[str] | None = None, *, image_size: tuple[int, int] | None = None
    ) -> dict[str, Any]:
        """Run the plan into ``{column: np.ndarray}``; images become stacked uint8 arrays.

        Parameters
        ----------
        columns
            Only these columns (all by default).
        image_size
            ``(width, height)`` to resize decoded images to before stacking.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).to_numpy()["a"]
        array([1, 2])
        """
        plan = self._plan
        features = plan.features if columns is None else self._output_features(columns)
        frame = collect_rows(plan, list(features))
        result: dict[str, Any] = plan.run(
            lambda: format_batch(frame, features, "numpy", 0, image_size)
        )
        return result

    def to_list(self) -> list[dict[str, Any]]:
        """All rows as dicts (images decoded).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).to_list()
        [{'a': 1}, {'a': 2}]
        """
        plan = self._plan
        rows = take_python_rows(plan) if plan.gather is not None else None
        if rows is not None:  # rows by position, straight from Arrow (nothing to decode)
            return rows
        frame = collect_rows(plan)
        return plan.run(lambda: to_python_rows(frame, plan.features))

    def to_dict(
        self, batch_size: int | None = None, batched: bool = False
    ) -> dict[str, list[Any]] | Iterator[dict[str, list[Any]]]:
        """All columns as lists (images decoded); with ``batched=True`` an iterator of such
        dicts of ``batch_size`` rows (1000).

        Parameters
        ----------
        batch_size, batched
            With ``batched=True``, an iterator of dicts of ``batch_size`` rows (1000).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).to_dict()
        {'a': [1, 2]}
        >>> list(Dataset.from_dict({"a": [1, 2, 3]}).to_dict(batch_size=2, batched=True))
        [{'a': [1, 2]}, {'a': [3]}]
        """
        plan = self._plan
        if batched:
            return (
                plan.run(partial(format_batch, frame, plan.features, "python"))
                for frame in self._batches(batch_size)
            )
        frame = collect_rows(plan)
        result: dict[str, list[Any]] = plan.run(
            lambda: format_batch(frame, plan.features, "python")
        )
        return result

    # ------------------------------------------------------------------ files
    def _write(
        self,
        path_or_buf: str | os.PathLike[str] | BinaryIO,
        to_path: Callable[[str], Any],
        to_buffer: Callable[[BinaryIO], Any],
        options: Mapping[str, Any],
    ) -> int:
        """Write to a path (atomically) or a binary file object; the number of bytes written."""
        if options.get("storage_options"):
            raise NotImplementedError(
                "storage_options is not supported here: write locally, then upload the file."
            )
        if isinstance(path_or_buf, (str, os.PathLike)):
            target = Path(path_or_buf)
            writers.atomic_write(target, lambda tmp: self._plan.run(lambda: to_path(tmp)))
            return target.stat().st_size
        counter = writers.CountingWriter(path_or_buf)
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
        if lines and not any(holds_json(f) for f in features.values()):
            return self._write(
                path_or_buf,
                lambda tmp: plan.lf.sink_ndjson(tmp, **kwargs),
                lambda buf: [f.write_ndjson(buf, **kwargs) for f in self._batches(batch_size)],
                options,
            )
        if kwargs:  # Json values (written decoded, as datasets) or one array
            raise TypeError(f"to_json got options {sorted(kwargs)} it cannot apply here.")

        def to_buffer(buf: BinaryIO) -> None:
            write_json_frames(self._batches(batch_size), features, buf, lines=lines)

        def to_file(tmp: str) -> None:
            if lines:  # streamed by Polars
                return sink_json_lines(plan.lf, features, tmp)
            with open(tmp, "wb") as file:
                to_buffer(file)

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

        def to_buffer(buf: BinaryIO) -> None:
            for index, frame in enumerate(self._batches(batch_size)):
                frame.write_csv(buf, include_header=index == 0, **kwargs)

        return self._write(
            path_or_buf,
            lambda tmp: plan.lf.sink_csv(tmp, **kwargs),
            to_buffer,
            {"storage_options": storage_options},
        )

    def save_to_disk(
        self,
        dataset_path: str | os.PathLike[str],
        max_shard_size: int | str | None = None,
        num_shards: int | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        """Save in ``datasets``' layout (Arrow shards with the Features, ``state.json``) to a
        folder or an fsspec URL, whole or not at all; ``datasets.load_from_disk`` reads it.

        Parameters
        ----------
        dataset_path
            The folder, or an fsspec URL (``s3://bucket/x``, ``memory://x``, ``file://...``).
        max_shard_size
            The largest shard (Arrow bytes, or ``"500MB"``, the default), as ``datasets``.
        num_shards
            How many shards (instead of ``max_shard_size``).
        num_proc
            The least number of shards, as in ``datasets`` (one process writes them).
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


DEFAULT_BATCH_SIZE = 1000  # datasets.config.DEFAULT_MAX_BATCH_SIZE
