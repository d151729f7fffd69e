"""Dataset: one split, as a lazy Polars frame plus its Features.

A ``Dataset`` is immutable. Every transform returns a new ``Dataset`` whose plan is one step
longer; only the output methods (``to_polars``, ``to_numpy``, ``iter``, indexing, ...) run it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import polars as pl

from crucible_polars.errors import ColumnNotFoundError
from crucible_polars.features import (
    Features,
)
from crucible_polars.formatting import check_format, format_batch, format_row, format_rows
from crucible_polars.info import DatasetInfo
from crucible_polars.ops.transforms import DatasetTransforms
from crucible_polars.readers.base import Diagnose, run_explained
from crucible_polars.readers.parquet import write_parquet

if TYPE_CHECKING:
    import pyarrow as pa


T = TypeVar("T")
DATA_FILE_TEMPLATE = "data-{index:05d}-of-{count:05d}.parquet"
INFO_FILE = "dataset_info.json"
DICT_FILE = "dataset_dict.json"


class Dataset(DatasetTransforms):
    """One split of a dataset: a lazy Polars plan, its Features and its info.

    Build one with :func:`crucible_polars.load_dataset`, :meth:`from_polars` or
    :meth:`from_dict`; nothing is read until an output method runs.

    Examples
    --------
    >>> import crucible_polars as cp
    >>> ds = cp.Dataset.from_dict({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    >>> ds.filter(pl.col("x") > 1).to_dict()
    {'x': [2, 3], 'y': ['b', 'c']}
    """

    def __init__(
        self,
        lf: pl.LazyFrame,
        features: Features | None = None,
        *,
        info: DatasetInfo | None = None,
        split: str | None = None,
        diagnose: Sequence[Diagnose] = (),
        num_rows: int | None = None,
        format: str | None = None,
        format_columns: Sequence[str] | None = None,
    ) -> None:
        self._lf = lf
        self._features = (
            features if features is not None else Features.from_polars(lf.collect_schema())
        )
        self._info = info or DatasetInfo()
        self._split = split
        self._diagnose = tuple(diagnose)
        self._num_rows = num_rows
        self._format = check_format(format)
        self._format_columns = list(format_columns) if format_columns is not None else None
        # Set by row-position transforms: this plan is ``base.gather(indices)``, so a later
        # select/take/shard composes the indices instead of gathering twice.
        self._gather: tuple[pl.LazyFrame, np.ndarray] | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_polars(
        cls, frame: pl.DataFrame | pl.LazyFrame, features: Features | None = None, **kwargs: Any
    ) -> Dataset:
        """Wrap a Polars DataFrame or LazyFrame (a LazyFrame stays lazy).

        Examples
        --------
        >>> Dataset.from_polars(pl.LazyFrame({"a": [1]})).column_names
        ['a']
        """
        num_rows = frame.height if isinstance(frame, pl.DataFrame) else None
        ds = cls(frame.lazy(), num_rows=num_rows, **kwargs)
        return ds.cast(features) if features is not None else ds

    @classmethod
    def from_dict(
        cls, mapping: dict[str, Sequence[Any]], features: Features | None = None, **kwargs: Any
    ) -> Dataset:
        """Build a dataset from ``{column: values}``.

        Examples
        --------
        >>> len(Dataset.from_dict({"a": [1, 2]}))
        2
        """
        if features is not None:
            frame = pl.DataFrame(dict(mapping), schema=features.to_polars(), strict=False)
            return cls(frame.lazy(), features, num_rows=frame.height, **kwargs)
        return cls.from_polars(pl.DataFrame(dict(mapping)), **kwargs)

    @classmethod
    def from_list(
        cls, rows: Sequence[dict[str, Any]], features: Features | None = None, **kwargs: Any
    ) -> Dataset:
        """Build a dataset from a list of row dicts.

        Examples
        --------
        >>> Dataset.from_list([{"a": 1}, {"a": 2}])["a"]
        [1, 2]
        """
        if features is not None:
            frame = pl.DataFrame(list(rows), schema=features.to_polars(), strict=False)
            return cls(frame.lazy(), features, num_rows=frame.height, **kwargs)
        return cls.from_polars(pl.DataFrame(list(rows), infer_schema_length=None), **kwargs)

    @classmethod
    def from_arrow(cls, table: pa.Table, **kwargs: Any) -> Dataset:
        """Wrap an Arrow table, reading Features from its ``huggingface`` schema metadata.

        Examples
        --------
        >>> import pyarrow as pa
        >>> Dataset.from_arrow(pa.table({"a": [1]})).features
        Features({'a': Value('int64')})
        """
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        features = Features.from_arrow(table.schema)
        return cls(frame.lazy(), features, num_rows=frame.height, **kwargs)

    @classmethod
    def from_generator(
        cls,
        generator: Callable[..., Iterable[dict[str, Any]]],
        features: Features | None = None,
        gen_kwargs: dict[str, Any] | None = None,
        *,
        batch_size: int = 10_000,
        **kwargs: Any,
    ) -> Dataset:
        """Build a dataset from a function yielding row dicts (run now, kept in memory).

        Rows are gathered ``batch_size`` at a time into Polars frames, typed by ``features``
        or inferred from the rows.

        Examples
        --------
        >>> def rows(n):
        ...     for i in range(n):
        ...         yield {"i": i, "sq": i * i}
        >>> Dataset.from_generator(rows, gen_kwargs={"n": 3})["sq"]
        [0, 1, 4]
        """
        schema = features.to_polars() if features is not None else None
        frames: list[pl.DataFrame] = []
        pending: list[dict[str, Any]] = []
        for row in generator(**(gen_kwargs or {})):
            pending.append(row)
            if len(pending) >= batch_size:
                frames.append(pl.DataFrame(pending, schema=schema, infer_schema_length=None))
                pending = []
        if pending or not frames:
            frames.append(pl.DataFrame(pending, schema=schema, infer_schema_length=None))
        frame = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
        if features is not None:
            return cls(frame.lazy(), features, num_rows=frame.height, **kwargs)
        return cls.from_polars(frame, **kwargs)

    @classmethod
    def from_parquet(
        cls, path_or_paths: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> Dataset:
        """Scan parquet files lazily: ``load_dataset("parquet", data_files=..., split=...)``.

        Keyword arguments (``split``, ``features``, ``columns``, ``filters``, ...) go to
        :func:`~crucible_polars.load_dataset`; ``split`` defaults to ``"train"``.

        Examples
        --------
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> Dataset.from_dict({"a": [1, 2]}).to_parquet(path)
        >>> Dataset.from_parquet(path, columns=["a"])["a"]
        [1, 2]
        """
        return _load_files("parquet", path_or_paths, kwargs)

    @classmethod
    def from_json(
        cls, path_or_paths: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> Dataset:
        """Scan JSON (lines) files lazily; like :meth:`from_parquet` (``field=`` for documents).

        Examples
        --------
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
        >>> Dataset.from_dict({"a": [1, 2]}).to_json(path)
        >>> Dataset.from_json(path)["a"]
        [1, 2]
        """
        return _load_files("json", path_or_paths, kwargs)

    @classmethod
    def from_csv(
        cls, path_or_paths: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> Dataset:
        """Scan CSV files lazily; like :meth:`from_parquet` (``sep=`` and reader options).

        Examples
        --------
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> Dataset.from_dict({"a": [1, 2]}).to_csv(path)
        >>> Dataset.from_csv(path)["a"]
        [1, 2]
        """
        return _load_files("csv", path_or_paths, kwargs)

    # ------------------------------------------------------------------ plumbing
    def _derive(
        self, lf: pl.LazyFrame, features: Features | None = None, **changes: Any
    ) -> Dataset:
        """A new Dataset with a longer plan and the same info, split, diagnostics and format."""
        kwargs: dict[str, Any] = {
            "info": self._info,
            "split": self._split,
            "diagnose": self._diagnose,
            "format": self._format,
            "format_columns": self._format_columns,
        }
        kwargs.update(changes)
        if features is None:
            schema = lf.collect_schema()
            features = Features({k: v for k, v in self._features.items() if k in schema})
            if list(features) != schema.names():
                inferred = Features.from_polars(schema)
                features = Features({k: features.get(k, inferred[k]) for k in schema.names()})
        if kwargs["format_columns"] is not None:  # removed columns leave the output format
            kwargs["format_columns"] = [c for c in kwargs["format_columns"] if c in features]
        return Dataset(lf, features, **kwargs)

    def _run(self, action: Callable[[], T]) -> T:
        """Run a query; if Polars fails, let the sources explain which file/row/column."""
        return run_explained(action, self._diagnose)

    def _collect(self, lf: pl.LazyFrame | None = None) -> pl.DataFrame:
        plan = self._lf if lf is None else lf
        return self._run(plan.collect)

    def _check_columns(self, columns: str | Iterable[str]) -> list[str]:
        names = [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in names if c not in self._features]
        if missing:
            raise ColumnNotFoundError(
                missing[0] if len(missing) == 1 else missing, self.column_names
            )
        return names

    # ------------------------------------------------------------------ inspect
    def lazy(self) -> pl.LazyFrame:
        """The Polars plan behind this dataset, for any Polars query.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).lazy().select(pl.col("a").sum()).collect().item()
        3
        """
        return self._lf

    @property
    def features(self) -> Features:
        """The Features (schema with meaning: ClassLabel names, Image, ...).

        Examples
        --------
        >>> Dataset.from_dict({"a": ["x"]}).features
        Features({'a': Value('string')})
        """
        return self._features

    @property
    def info(self) -> DatasetInfo:
        """Descriptive metadata (description, citation, licence, ...).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}).info.description
        ''
        """
        return self._info

    @property
    def split(self) -> str | None:
        """The split name, if this dataset is a split of a loaded dataset.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}, split="train").split
        'train'
        """
        return self._split

    @property
    def column_names(self) -> list[str]:
        """Column names, in order.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1], "b": [2]}).column_names
        ['a', 'b']
        """
        return list(self._features)

    @property
    def num_columns(self) -> int:
        """Number of columns.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1], "b": [2]}).num_columns
        2
        """
        return len(self._features)

    @property
    def num_rows(self) -> int:
        """Number of rows (from parquet metadata when the plan allows; counted once, then cached).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2, 3]}).num_rows
        3
        """
        if self._num_rows is None:
            self._num_rows = int(self._run(self._lf.select(pl.len()).collect).item())
        return self._num_rows

    def __len__(self) -> int:
        return self.num_rows

    @property
    def shape(self) -> tuple[int, int]:
        """``(num_rows, num_columns)``.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).shape
        (2, 1)
        """
        return (self.num_rows, self.num_columns)

    def explain(self, *, optimized: bool = True) -> str:
        """The Polars query plan; the optimized plan shows what was pushed into the scan.

        Examples
        --------
        >>> ds = Dataset.from_dict({"a": [1]}).filter(pl.col("a") > 0)
        >>> print(ds.explain())  # doctest: +ELLIPSIS
        FILTER ...
        """
        return self._lf.explain(optimized=optimized)

    def __repr__(self) -> str:
        rows = self._num_rows if self._num_rows is not None else self.num_rows
        split = f"\n    split: {self._split!r}," if self._split else ""
        return f"Dataset({{{split}\n    features: {self.column_names},\n    num_rows: {rows}\n}})"

    def _repr_html_(self) -> str:
        from crucible_polars.html import dataset_html

        return dataset_html(self)

    # ------------------------------------------------------------------ access
    def __getitem__(self, key: int | slice | str | Sequence[int] | np.ndarray) -> Any:
        """``ds[i]`` a row, ``ds[a:b]`` / ``ds[[i, j]]`` a dict of columns, ``ds["col"]`` a list."""
        fmt = self._format
        if isinstance(key, str):
            self._check_columns(key)
            batch = format_batch(self._collect(self._lf.select(key)), self._features, fmt)
            return batch[key] if isinstance(batch, dict) else batch
        if isinstance(key, (int, np.integer)):
            index = int(key)
            n = self.num_rows
            if not -n <= index < n:
                raise IndexError(f"Index {index} is out of range for a dataset of {n} rows.")
            index %= n
            return format_row(
                self._collect(self._output_lf().slice(index, 1)),
                self._output_features(),
                fmt,
                index,
            )
        if isinstance(key, slice):
            start, stop, step = key.indices(self.num_rows)
            if step == 1:
                lf = self._output_lf().slice(start, max(0, stop - start))
                return format_batch(self._collect(lf), self._output_features(), fmt, start)
            return self[list(range(start, stop, step))]
        if isinstance(key, (list, tuple, np.ndarray, range)):
            indices = [int(i) for i in key]
            n = self.num_rows
            bad = [i for i in indices if not -n <= i < n]
            if bad:
                raise IndexError(f"Index {bad[0]} is out of range for a dataset of {n} rows.")
            lf = self._output_lf().gather([i % n for i in indices])
            return format_batch(self._collect(lf), self._output_features(), fmt)
        raise TypeError(
            f"Cannot index a Dataset with {type(key).__name__}; "
            "use an int, a slice, a column name or a list of ints."
        )

    def _output_lf(self) -> pl.LazyFrame:
        if self._format_columns is None:
            return self._lf
        return self._lf.select(self._format_columns)

    def _output_features(self) -> Features:
        if self._format_columns is None:
            return self._features
        return Features({k: self._features[k] for k in self._format_columns})

    def __iter__(self) -> Iterator[Any]:
        """Iterate rows (dicts, images decoded), reading the plan batch by batch."""
        offset = 0
        features = self._output_features()
        for frame in self._batches(1000, drop_last_batch=False, lf=self._output_lf()):
            yield from format_rows(frame, features, self._format, offset)
            offset += frame.height

    def _batches(
        self,
        batch_size: int,
        *,
        drop_last_batch: bool,
        lf: pl.LazyFrame | None = None,
        read_size: int | None = None,
    ) -> Iterator[pl.DataFrame]:
        """Exact-size batches from Polars' streaming engine, with bounded memory.

        ``read_size``: rows per chunk asked of Polars (default ``batch_size``); larger chunks
        cost less per row when batches are small.
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        plan = self._lf if lf is None else lf
        pending: list[pl.DataFrame] = []
        pending_rows = 0
        chunk_size = max(batch_size, read_size or 0)
        chunks = self._run(lambda: iter(plan.collect_batches(chunk_size=chunk_size)))
        while True:
            chunk = self._run(lambda: next(chunks, None))
            if chunk is None:
                break
            pending.append(chunk)
            pending_rows += chunk.height
            if pending_rows < batch_size:
                continue
            frame = pl.concat(pending, rechunk=False) if len(pending) > 1 else pending[0]
            full = frame.height - frame.height % batch_size
            for start in range(0, full, batch_size):
                yield frame.slice(start, batch_size)
            rest = frame.slice(full)
            pending, pending_rows = ([rest], rest.height) if rest.height else ([], 0)
        if pending_rows and not drop_last_batch:
            yield pl.concat(pending) if len(pending) > 1 else pending[0]

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
        >>> ds = Dataset.from_dict({"a": list(range(5))})
        >>> [b["a"].tolist() for b in ds.iter(2, format="numpy")]
        [[0, 1], [2, 3], [4]]
        """
        fmt = check_format(format) if format is not None else self._format
        cols = list(columns) if columns is not None else self._format_columns
        lf = self._lf if cols is None else self._lf.select(self._check_columns(cols))
        features = (
            self._features if cols is None else Features({c: self._features[c] for c in cols})
        )
        offset = 0
        for frame in self._batches(batch_size, drop_last_batch=drop_last_batch, lf=lf):
            yield self._run(lambda f=frame, o=offset: format_batch(f, features, fmt, o, image_size))  # type: ignore[misc]
            offset += frame.height

    def with_format(
        self, format: str | None = None, columns: Sequence[str] | None = None
    ) -> Dataset:
        """Set the output format of indexing and iteration (``None`` resets to python).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).with_format("numpy")["a"]
        array([1, 2])
        """
        if columns is not None:
            self._check_columns(columns)
        return self._derive(
            self._lf, self._features, format=format, format_columns=columns, num_rows=self._num_rows
        )

    # ------------------------------------------------------------------ outputs
    def to_polars(self) -> pl.DataFrame:
        """Run the plan into a Polars DataFrame (images stay ``{bytes, path}`` structs).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}).to_polars().shape
        (1, 1)
        """
        return self._collect()

    def to_arrow(self) -> pa.Table:
        """Run the plan into an Arrow table carrying the ``huggingface`` features metadata.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1]}).to_arrow().num_rows
        1
        """
        return format_batch(self._collect(), self._features, "arrow")

    def to_numpy(
        self, columns: Sequence[str] | None = None, *, image_size: tuple[int, int] | None = None
    ) -> dict[str, Any]:
        """Run the plan into ``{column: np.ndarray}``; images become stacked uint8 arrays.

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).to_numpy()["a"]
        array([1, 2])
        """
        lf = self._lf if columns is None else self._lf.select(self._check_columns(columns))
        features = (
            self._features if columns is None else Features({c: self._features[c] for c in columns})
        )
        frame = self._collect(lf)
        result: dict[str, Any] = self._run(
            lambda: format_batch(frame, features, "numpy", 0, image_size)
        )
        return result

    def to_list(self) -> list[dict[str, Any]]:
        """All rows as dicts (images decoded).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).to_list()
        [{'a': 1}, {'a': 2}]
        """
        from crucible_polars.formatting import to_python_rows

        frame = self._collect()
        return self._run(lambda: to_python_rows(frame, self._features))

    def to_dict(self) -> dict[str, list[Any]]:
        """All columns as lists (images decoded).

        Examples
        --------
        >>> Dataset.from_dict({"a": [1, 2]}).to_dict()
        {'a': [1, 2]}
        """
        frame = self._collect()
        result: dict[str, list[Any]] = self._run(
            lambda: format_batch(frame, self._features, "python")
        )
        return result

    def to_parquet(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Stream the plan into one parquet file, with the features ``datasets`` reads back.

        Written to a temporary name and renamed, so a failure leaves nothing half-written.

        Examples
        --------
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> Dataset.from_dict({"a": [1]}).to_parquet(path)
        >>> pl.read_parquet(path)["a"].to_list()
        [1]
        """
        schema = self._parquet_arrow_schema()
        _atomic_write(
            Path(path),
            lambda tmp: self._run(lambda: write_parquet(self._lf, tmp, schema, **kwargs)),
        )

    def to_json(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Stream the plan into a JSON lines file (what ``datasets``' ``to_json`` writes).

        Examples
        --------
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
        >>> Dataset.from_dict({"a": [1]}).to_json(path)
        >>> open(path).read()
        '{"a":1}\\n'
        """
        _atomic_write(
            Path(path), lambda tmp: self._run(lambda: self._lf.sink_ndjson(tmp, **kwargs))
        )

    def to_csv(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Stream the plan into a CSV file with a header.

        Examples
        --------
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> Dataset.from_dict({"a": [1]}).to_csv(path)
        >>> open(path).read()
        'a\\n1\\n'
        """
        _atomic_write(Path(path), lambda tmp: self._run(lambda: self._lf.sink_csv(tmp, **kwargs)))

    def save_to_disk(self, path: str | os.PathLike[str], *, num_shards: int = 1) -> None:
        """Save as parquet shards plus ``dataset_info.json``; :func:`load_from_disk` reads it back.

        The shards carry the ``huggingface`` metadata, so
        ``datasets.load_dataset("parquet", data_files=f"{path}/*.parquet")`` gets the same
        Features. The folder appears whole or not at all.

        Examples
        --------
        >>> import tempfile, crucible_polars as cp
        >>> path = os.path.join(tempfile.mkdtemp(), "saved")
        >>> Dataset.from_dict({"a": [1, 2]}).save_to_disk(path)
        >>> cp.load_from_disk(path)["a"]
        [1, 2]
        """
        _atomic_write(
            Path(path), lambda tmp: self._write_folder(Path(tmp), num_shards), is_dir=True
        )

    def _parquet_arrow_schema(self) -> pa.Schema:
        """The features' Arrow schema with the ``huggingface`` metadata (info plus features)
        that ``datasets`` reads back from a parquet file."""
        info = {k: v for k, v in self._info.to_dict().items() if v not in (None, "", {})}
        info["features"] = self._features.to_dict()
        schema = self._features.to_arrow_schema()
        return schema.with_metadata({"huggingface": json.dumps({"info": info}, default=str)})

    def _write_folder(self, folder: Path, num_shards: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        schema = self._parquet_arrow_schema()
        n = self.num_rows
        num_shards = max(1, min(num_shards, n)) if n else 1
        for index in range(num_shards):
            start, stop = index * n // num_shards, (index + 1) * n // num_shards
            target = folder / DATA_FILE_TEMPLATE.format(index=index, count=num_shards)
            shard = self._lf.slice(start, stop - start)
            self._run(partial(write_parquet, shard, str(target), schema))
        info = self._info.to_dict()
        info["features"] = self._features.to_dict()
        info["split"] = self._split
        info["num_rows"] = n
        (folder / INFO_FILE).write_text(json.dumps(info, indent=2, default=str))


def _load_files(
    fmt: str, path_or_paths: str | os.PathLike[str] | Sequence[str], options: dict[str, Any]
) -> Dataset:
    from crucible_polars.load import load_dataset

    split = options.pop("split", None) or "train"
    files = (
        os.fspath(path_or_paths)
        if isinstance(path_or_paths, (str, os.PathLike))
        else [os.fspath(p) for p in path_or_paths]
    )
    dataset: Dataset = load_dataset(fmt, data_files={split: files}, split=split, **options)
    return dataset


def _atomic_write(target: Path, write: Callable[[str], Any], *, is_dir: bool = False) -> None:
    """Write to a temporary sibling, then rename over ``target``; nothing half-written remains."""
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        tmp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            write(tmp)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
