"""The constructors of :class:`~crucible_polars.Dataset`: from Polars, Python, Arrow, a
generator, or data files (scanned lazily)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.dataset.options import check_mixed_types
from crucible_polars.dataset.state import DatasetState
from crucible_polars.features import Features
from crucible_polars.features.encode import column_series, encode_frame
from crucible_polars.info import DatasetInfo
from crucible_polars.integrations.ray_data import ray_features, ray_to_table
from crucible_polars.plan import Plan
from crucible_polars.resolve.build import load_files
from crucible_polars.resolve.saved import load_saved_split, saved_folder, saved_splits

if TYPE_CHECKING:
    import pyarrow as pa

    from crucible_polars.dataset.core import Dataset


class DatasetConstructors(DatasetState):
    """Mixin with the ``from_*`` class methods of :class:`~crucible_polars.Dataset`."""

    @classmethod
    def from_polars(
        cls,
        df: pl.DataFrame | pl.LazyFrame,
        features: Features | None = None,
        info: DatasetInfo | None = None,
        split: str | None = None,
    ) -> Dataset:
        """Wrap a Polars DataFrame or LazyFrame (a LazyFrame stays lazy).

        Parameters
        ----------
        df
            The DataFrame or LazyFrame.
        features
            Cast to these Features; inferred from the Polars schema when ``None``.
        info, split
            The dataset's info and split name.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_polars(pl.LazyFrame({"a": [1]})).column_names
        ['a']
        """
        ds = cls.from_plan(Plan.from_frame(df), info=info, split=split)
        return ds.cast(features) if features is not None else ds

    @classmethod
    def from_dict(
        cls,
        mapping: dict[str, Sequence[Any]],
        features: Features | None = None,
        info: DatasetInfo | None = None,
        split: str | None = None,
        on_mixed_types: str | None = None,
    ) -> Dataset:
        """Build a dataset from ``{column: values}``.

        Parameters
        ----------
        mapping
            ``{column: values}``, all of one length.
        features
            The columns' Features; inferred from the values when ``None``.
        info, split
            The dataset's info and split name.
        on_mixed_types
            Only ``None``: ``"use_json"`` (``datasets``' JSON columns for mixed types) raises
            ``NotImplementedError``.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> len(Dataset.from_dict({"a": [1, 2]}))
        2
        """
        check_mixed_types(on_mixed_types)
        if features is not None:
            features = Features(features)
            frame = encode_frame(mapping, features)
            return cls.from_plan(Plan.from_frame(frame, features), info=info, split=split)
        columns = {name: column_series(name, values) for name, values in mapping.items()}
        return cls.from_polars(pl.DataFrame(columns), info=info, split=split)

    @classmethod
    def from_list(
        cls,
        mapping: Sequence[dict[str, Any]],
        features: Features | None = None,
        info: DatasetInfo | None = None,
        split: str | None = None,
        on_mixed_types: str | None = None,
    ) -> Dataset:
        """Build a dataset from a list of row dicts.

        Parameters
        ----------
        mapping
            The rows, as dicts (``datasets``' name for them).
        features
            The columns' Features; inferred from the rows when ``None``.
        info, split
            The dataset's info and split name.
        on_mixed_types
            Only ``None``, as in :meth:`from_dict`.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> Dataset.from_list([{"a": 1}, {"a": 2}])["a"]
        [1, 2]
        """
        check_mixed_types(on_mixed_types)
        if features is not None:
            features = Features(features)
            columns = {name: [row.get(name) for row in mapping] for name in features}
            frame = encode_frame(columns, features)
            return cls.from_plan(Plan.from_frame(frame, features), info=info, split=split)
        frame = pl.DataFrame(list(mapping), infer_schema_length=None)
        return cls.from_polars(frame, info=info, split=split)

    @classmethod
    def from_arrow(cls, table: pa.Table, **kwargs: Any) -> Dataset:
        """Wrap an Arrow table, reading Features from its ``huggingface`` schema metadata.

        Parameters
        ----------
        table
            The Arrow table.
        **kwargs
            Passed to :meth:`from_plan` (``info=``, ``split=``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import pyarrow as pa
        >>> Dataset.from_arrow(pa.table({"a": [1]})).features
        Features({'a': Value('int64')})
        """
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        features = Features.from_arrow(table.schema)
        return cls.from_plan(Plan.from_frame(frame, features), **kwargs)

    @classmethod
    def from_ray(cls, ray_dataset: Any, features: Features | None = None) -> Dataset:
        """A dataset of a ``ray.data.Dataset``'s rows, gathered in memory on the driver.

        Parameters
        ----------
        ray_dataset
            The Ray dataset (it runs now).
        features
            Cast to these Features; by default those of its ``huggingface`` schema metadata
            (written by :meth:`Dataset.to_ray`), else inferred from the Arrow types.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> ds = Dataset.from_dict({"a": [1, 2]})
        >>> Dataset.from_ray(ds.to_ray()).features == ds.features  # doctest: +SKIP
        True
        """
        table = ray_to_table(ray_dataset)
        dataset = cls.from_arrow(table)
        stored = ray_features(ray_dataset)
        if features is None and stored is not None and stored != dataset.features:
            features = stored
        return dataset if features is None else dataset.cast(features)

    @classmethod
    def from_generator(
        cls,
        generator: Callable[..., Iterable[dict[str, Any]]],
        features: Features | None = None,
        cache_dir: str | None = None,
        keep_in_memory: bool = False,
        gen_kwargs: dict[str, Any] | None = None,
        num_proc: int | None = None,
        split: str = "train",
        fingerprint: str | None = None,
        *,
        batch_size: int = 10_000,
        info: DatasetInfo | None = None,
    ) -> Dataset:
        """Build a dataset from a function yielding row dicts (run now, kept in memory).

        Rows are gathered ``batch_size`` at a time into Polars frames, typed by ``features``
        or inferred from the rows.

        Parameters
        ----------
        generator
            A function returning an iterable of row dicts.
        features
            The columns' Features; inferred from the rows when ``None``.
        cache_dir, keep_in_memory, fingerprint
            ``datasets``' cache options, accepted and ignored: the rows are kept in memory.
        gen_kwargs
            Keyword arguments for ``generator``.
        num_proc
            Only ``None`` or ``1``: the generator runs in this process.
        split
            The split name (``"train"``, as in ``datasets``).
        batch_size
            Rows gathered per Polars frame.
        info
            The dataset's info.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> def rows(n):
        ...     for i in range(n):
        ...         yield {"i": i, "sq": i * i}
        >>> Dataset.from_generator(rows, gen_kwargs={"n": 3})["sq"]
        [0, 1, 4]
        """
        if num_proc is not None and num_proc > 1:
            raise NotImplementedError(
                "from_generator(num_proc>1) is not supported: the generator runs in this "
                "process; give num_proc=None."
            )
        if features is not None:
            features = Features(features)

        def to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
            if features is None:
                return pl.DataFrame(rows, infer_schema_length=None)
            return encode_frame({n: [r.get(n) for r in rows] for n in features}, features)

        frames: list[pl.DataFrame] = []
        pending: list[dict[str, Any]] = []
        for row in generator(**(gen_kwargs or {})):
            pending.append(row)
            if len(pending) >= batch_size:
                frames.append(to_frame(pending))
                pending = []
        if pending or not frames:
            frames.append(to_frame(pending))
        frame = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
        if features is not None:
            return cls.from_plan(Plan.from_frame(frame, features), info=info, split=split)
        return cls.from_polars(frame, info=info, split=split)

    @classmethod
    def from_parquet(
        cls, path_or_paths: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> Dataset:
        """Scan parquet files lazily: ``load_dataset("parquet", data_files=..., split=...)``.

        Keyword arguments (``split``, ``features``, ``columns``, ``filters``, ...) go to
        :func:`~crucible_polars.load_dataset`; ``split`` defaults to ``"train"``.

        Parameters
        ----------
        path_or_paths
            A file, a glob, or a list of them.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset`.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> _ = Dataset.from_dict({"a": [1, 2]}).to_parquet(path)
        >>> Dataset.from_parquet(path, columns=["a"])["a"]
        [1, 2]
        """
        built = load_files("parquet", path_or_paths, kwargs)
        return cls.from_plan(built.plan, info=built.info, split=built.split)

    @classmethod
    def from_json(
        cls, path_or_paths: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> Dataset:
        """Scan JSON (lines) files lazily; like :meth:`from_parquet` (``field=`` for documents).

        Parameters
        ----------
        path_or_paths
            A file, a glob, or a list of them.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset`.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
        >>> _ = Dataset.from_dict({"a": [1, 2]}).to_json(path)
        >>> Dataset.from_json(path)["a"]
        [1, 2]
        """
        built = load_files("json", path_or_paths, kwargs)
        return cls.from_plan(built.plan, info=built.info, split=built.split)

    @classmethod
    def from_csv(
        cls, path_or_paths: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> Dataset:
        """Scan CSV files lazily; like :meth:`from_parquet` (``sep=`` and reader options).

        Parameters
        ----------
        path_or_paths
            A file, a glob, or a list of them.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset`.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> _ = Dataset.from_dict({"a": [1, 2]}).to_csv(path)
        >>> Dataset.from_csv(path)["a"]
        [1, 2]
        """
        built = load_files("csv", path_or_paths, kwargs)
        return cls.from_plan(built.plan, info=built.info, split=built.split)

    @classmethod
    def from_text(
        cls,
        path_or_paths: str | os.PathLike[str] | Sequence[str],
        *,
        keep_linebreaks: bool = False,
        **kwargs: Any,
    ) -> Dataset:
        """Scan text files lazily, one row per line in a ``text`` column (as ``datasets``).

        Keyword arguments (``split``, ``features``, ...) go to
        :func:`~crucible_polars.load_dataset`; ``split`` defaults to ``"train"``.

        Parameters
        ----------
        path_or_paths
            A file, a glob, or a list of them.
        keep_linebreaks
            Only ``False`` (lines are read without their newline); ``True`` is refused.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset`.

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> _ = open(path, "w").write("hello\\nworld\\n")
        >>> Dataset.from_text(path)["text"]
        ['hello', 'world']
        """
        if keep_linebreaks:
            raise NotImplementedError(
                "from_text(keep_linebreaks=True) is not supported: lines are read without "
                "their line break; add it back with "
                'ds.with_columns(pl.col("text") + "\\n") if you need it.'
            )
        built = load_files("text", path_or_paths, kwargs)
        return cls.from_plan(built.plan, info=built.info, split=built.split)

    @classmethod
    def from_pandas(
        cls,
        df: Any,
        features: Features | None = None,
        info: DatasetInfo | None = None,
        split: str | None = None,
        preserve_index: bool | None = None,
    ) -> Dataset:
        """Build a dataset from a pandas DataFrame, as ``datasets`` does (through Arrow: a
        non-default index is kept as ``__index_level_0__`` unless ``preserve_index=False``).

        Parameters
        ----------
        df
            The pandas DataFrame.
        features
            Cast to these Features; inferred from the Arrow types when ``None``.
        info, split
            The dataset's info and split name.
        preserve_index
            Keep the index as a column (``None``: only a non-default index).

        Examples
        --------
        >>> import pandas as pd
        >>> from crucible_polars import Dataset
        >>> Dataset.from_pandas(pd.DataFrame({"a": [1, 2]}))["a"]
        [1, 2]
        """
        import pyarrow as pa

        table = pa.Table.from_pandas(df, preserve_index=preserve_index)
        ds = cls.from_arrow(table.replace_schema_metadata(None), info=info, split=split)
        return ds.cast(Features(features)) if features is not None else ds

    @classmethod
    def load_from_disk(
        cls,
        dataset_path: str | os.PathLike[str],
        keep_in_memory: bool | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> Dataset:
        """Load one split written by :meth:`save_to_disk` (lazily: the shards are scanned).

        Parameters
        ----------
        dataset_path
            The folder, or an fsspec URL of one (copied once into the cache).
        keep_in_memory
            ``True`` reads the shards into memory now (as :meth:`cache` would).
        storage_options
            Options of the URL's file system (``fsspec``'s names, as in ``datasets``).

        Examples
        --------
        >>> from crucible_polars import Dataset
        >>> import tempfile
        >>> folder = os.path.join(tempfile.mkdtemp(), "saved")
        >>> Dataset.from_dict({"a": [1, 2]}).save_to_disk(folder)
        >>> Dataset.load_from_disk(folder)["a"]
        [1, 2]
        """
        folder = saved_folder(dataset_path, storage_options)
        if saved_splits(folder) is not None:
            raise ValueError(
                f"{os.fspath(dataset_path)!r} holds a DatasetDict; use "
                "DatasetDict.load_from_disk or cp.load_from_disk."
            )
        saved = load_saved_split(folder)
        plan = saved.plan
        if keep_in_memory:
            plan = Plan.from_frame(plan.collect(), plan.features)
        return cls.from_plan(plan, info=DatasetInfo.from_dict(saved.info), split=saved.split)
