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

from crucible_polars import writers
from crucible_polars.dataset.state import DatasetState
from crucible_polars.formatting import check_format, format_batch, to_python_rows

if TYPE_CHECKING:
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
        lf = plan.lf.select(list(features))
        offset = 0
        for frame in plan.batches(batch_size, drop_last_batch=drop_last_batch, lf=lf):
            yield plan.run(
                partial(self._format_frame, frame, features, fmt, offset, image_size=image_size)
            )
            offset += frame.height

    # ------------------------------------------------------------------ outputs
    def to_polars(self) -> pl.DataFrame:
        """Run the plan into a Polars DataFrame (images stay ``{bytes, path}`` structs).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1]}).to_polars().shape
        (1, 1)
        """
        return self._plan.collect()

    def to_arrow(self) -> pa.Table:
        """Run the plan into an Arrow table carrying the ``huggingface`` features metadata.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_dict({"a": [1]}).to_arrow().num_rows
        1
        """
        return format_batch(self._plan.collect(), self._plan.features, "arrow")

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
        frame = plan.collect(plan.lf.select(list(features)))
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
        frame = plan.collect()
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
        frame = plan.collect()
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
        plan = self._plan
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
        plan = self._plan
        writers.atomic_write(
            Path(path), lambda tmp: plan.run(lambda: plan.lf.sink_csv(tmp, **kwargs))
        )

    def save_to_disk(self, path: str | os.PathLike[str], *, num_shards: int = 1) -> None:
        """Save as parquet shards plus ``dataset_info.json``; :func:`load_from_disk` reads it back.

        The shards carry the ``huggingface`` metadata, so
        ``datasets.load_dataset("parquet", data_files=f"{path}/*.parquet")`` gets the same
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
