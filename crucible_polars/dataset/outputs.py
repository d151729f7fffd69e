"""The output methods of :class:`~crucible_polars.Dataset`: batches, formats, collections and
files (media decoded only for the rows and columns that leave the plan)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars import integrations
from crucible_polars.dataset.state import DatasetState
from crucible_polars.formatting import check_format, format_batch, to_python_rows
from crucible_polars.materialize import collect_rows, iter_frames, take_python_rows

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


DEFAULT_BATCH_SIZE = 1000  # datasets.config.DEFAULT_MAX_BATCH_SIZE
