"""The output methods of :class:`~crucible_polars.Dataset`: batches, formats, collections and
files. Image columns are decoded here (in threads), only for the rows and columns that leave
the plan; writing goes through :mod:`crucible_polars.writers`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars import integrations, writers
from crucible_polars.dataset.state import DatasetState
from crucible_polars.formatting import check_format, format_batch, to_python_rows
from crucible_polars.materialize import collect_rows, iter_frames, streamable

if TYPE_CHECKING:
    import pyarrow as pa

    from crucible_polars.dataset.core import Dataset


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
            yield plan.run(partial(format_batch, frame, features, fmt, offset, image_size))
            offset += frame.height

    def with_format(
        self,
        type: str | None = None,
        columns: Sequence[str] | None = None,
        *,
        format: str | None = None,
    ) -> Dataset:
        """Set the output format of indexing and iteration (``None`` resets to python).

        Parameters
        ----------
        type
            ``"python"`` (or ``None``), ``"numpy"``, ``"torch"``, ``"arrow"``, ``"polars"``
            (``datasets``' name for this argument).
        columns
            Only these columns in the output.
        format
            Another name for ``type``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).with_format("numpy")["a"]
        array([1, 2])
        """
        if type is not None and format is not None and type != format:
            raise TypeError(f"with_format got type={type!r} and format={format!r}; give one.")
        if columns is not None:
            columns = self._plan.check_columns(columns)
        return self._with(self._plan, format=check_format(type or format), format_columns=columns)

    # ------------------------------------------------------------------ outputs
    def to_polars(self) -> pl.DataFrame:
        """Run the plan into a Polars DataFrame (images stay ``{bytes, path}`` structs).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1]}).to_polars().shape
        (1, 1)
        """
        return collect_rows(self._plan)

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
        frame = collect_rows(plan)
        return plan.run(lambda: to_python_rows(frame, plan.features))

    def to_dict(self) -> dict[str, list[Any]]:
        """All columns as lists (images decoded).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1, 2]}).to_dict()
        {'a': [1, 2]}
        """
        plan = self._plan
        frame = collect_rows(plan)
        result: dict[str, list[Any]] = plan.run(
            lambda: format_batch(frame, plan.features, "python")
        )
        return result

    # ------------------------------------------------------------------ files
    def to_parquet(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Stream the plan into one parquet file, with the features ``datasets`` reads back.

        Written to a temporary name and renamed, so a failure leaves nothing half-written.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> Dataset.from_dict({"a": [1]}).to_parquet(path)
        >>> pl.read_parquet(path)["a"].to_list()
        [1]
        """
        writers.write_parquet_file(self._plan, self._info, path, **kwargs)

    def to_json(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Stream the plan into a JSON lines file (what ``datasets``' ``to_json`` writes).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
        >>> Dataset.from_dict({"a": [1]}).to_json(path)
        >>> open(path).read()
        '{"a":1}\\n'
        """
        plan = streamable(self._plan)
        writers.atomic_write(
            Path(path), lambda tmp: plan.run(lambda: plan.lf.sink_ndjson(tmp, **kwargs))
        )

    def to_csv(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Stream the plan into a CSV file with a header.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> Dataset.from_dict({"a": [1]}).to_csv(path)
        >>> open(path).read()
        'a\\n1\\n'
        """
        plan = streamable(self._plan)
        writers.atomic_write(
            Path(path), lambda tmp: plan.run(lambda: plan.lf.sink_csv(tmp, **kwargs))
        )

    def save_to_disk(self, path: str | os.PathLike[str], *, num_shards: int = 1) -> None:
        """Save in ``datasets``' layout (Arrow shards, ``state.json``, ``dataset_info.json``);
        :func:`load_from_disk` and ``datasets.load_from_disk`` read it back.

        The shards carry the ``huggingface`` metadata, so ``datasets`` gets the same
        Features. The folder appears whole or not at all.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile, crucible_polars as cp
        >>> path = os.path.join(tempfile.mkdtemp(), "saved")
        >>> Dataset.from_dict({"a": [1, 2]}).save_to_disk(path)
        >>> cp.load_from_disk(path)["a"]
        [1, 2]
        """
        writers.save_dataset(self._plan, self._info, self._split, path, num_shards=num_shards)
