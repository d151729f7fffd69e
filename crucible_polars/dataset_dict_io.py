"""Files of a :class:`~crucible_polars.DatasetDict`: ``save_to_disk`` / ``load_from_disk``
and the ``from_csv`` / ``from_json`` / ``from_parquet`` / ``from_text`` constructors, which take
``{split: path or paths}`` as in ``datasets``.

Examples
--------
>>> import os, tempfile
>>> from crucible_polars import Dataset, DatasetDict
>>> path = os.path.join(tempfile.mkdtemp(), "saved")
>>> DatasetDict(train=Dataset.from_dict({"a": [1]})).save_to_disk(path)
>>> DatasetDict.load_from_disk(path).num_rows
{'train': 1}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crucible_polars.dataset.state import DatasetState
from crucible_polars.info import DatasetInfo
from crucible_polars.media.embed import embed_image_files
from crucible_polars.plan import Plan
from crucible_polars.resolve.build import load_files
from crucible_polars.resolve.saved import load_saved_split, saved_folder, saved_splits
from crucible_polars.save_disk import save_folder, write_dataset_folder
from crucible_polars.writers import DICT_FILE

if TYPE_CHECKING:
    from crucible_polars.dataset import Dataset
    from crucible_polars.dataset_dict import DatasetDict


class DatasetDictIO(dict[str, "Dataset"]):
    """Mixin of :class:`~crucible_polars.DatasetDict`: saving, loading and file constructors."""

    def save_to_disk(
        self,
        dataset_dict_path: str | os.PathLike[str],
        max_shard_size: str | int | None = None,
        num_shards: int | dict[str, int] | None = None,
        num_proc: int | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        """Save every split under ``path/{split}/`` plus ``dataset_dict.json``, to a folder
        or an fsspec URL (the folder appears whole or not at all, as
        :meth:`Dataset.save_to_disk <crucible_polars.Dataset.save_to_disk>`).

        Parameters
        ----------
        dataset_dict_path
            The folder, or an fsspec URL (``s3://bucket/x``, ``memory://x``, ``file://...``).
        max_shard_size
            The largest shard (Arrow bytes, or ``"500MB"``, the default), as ``datasets``.
        num_shards
            Shards per split: one number, or ``{split: n}`` as in ``datasets`` (a split
            left out is sharded by ``max_shard_size``).
        num_proc
            The least number of shards per split, as in ``datasets`` (one process writes).
        storage_options
            Options of the URL's file system (``fsspec``'s names).

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> import tempfile, crucible_polars as cp
        >>> path = os.path.join(tempfile.mkdtemp(), "saved")
        >>> dd = DatasetDict(
        ...     train=Dataset.from_dict({"a": [1, 2]}), test=Dataset.from_dict({"a": [3]})
        ... )
        >>> dd.save_to_disk(path, num_shards={"train": 2, "test": 1})
        >>> sorted(os.listdir(os.path.join(path, "train")))[:2]
        ['data-00000-of-00002.arrow', 'data-00001-of-00002.arrow']
        >>> cp.load_from_disk(path).num_rows
        {'train': 2, 'test': 1}
        >>> dd.save_to_disk("memory://doc/dict")
        >>> cp.load_from_disk("memory://doc/dict").num_rows
        {'train': 2, 'test': 1}
        """
        if isinstance(num_shards, dict):
            unknown = [k for k in num_shards if k not in self]
            if unknown:
                raise ValueError(f"num_shards names splits {unknown} that are not in {list(self)}")
        shards = {
            k: num_shards.get(k) if isinstance(num_shards, dict) else num_shards for k in self
        }
        if max_shard_size is not None and any(n is not None for n in shards.values()):
            raise ValueError("save_to_disk takes max_shard_size or num_shards, not both.")

        def write(tmp: str) -> None:
            folder = Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            for name, ds in self.items():
                plan = embed_image_files(ds.plan)  # the saved copy stands alone, as in datasets
                write_dataset_folder(
                    plan,
                    ds.info,
                    ds.split,
                    folder / name,
                    shards[name],
                    max_shard_size=max_shard_size,
                    num_proc=num_proc,
                )
            (folder / DICT_FILE).write_text(json.dumps({"splits": list(self)}))

        save_folder(dataset_dict_path, write, storage_options)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def load_from_disk(
        cls,
        dataset_dict_path: str | os.PathLike[str],
        keep_in_memory: bool | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> DatasetDict:
        """Load a folder written by :meth:`save_to_disk` (the shards are scanned lazily).

        Parameters
        ----------
        dataset_dict_path
            The folder, or an fsspec URL of one (copied once into the cache).
        keep_in_memory
            ``True`` reads every split's shards into memory now.
        storage_options
            Options of the URL's file system (``fsspec``'s names, as in ``datasets``).

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> import tempfile
        >>> from crucible_polars import DatasetDict
        >>> path = os.path.join(tempfile.mkdtemp(), "saved")
        >>> DatasetDict(train=Dataset.from_dict({"a": [1]})).save_to_disk(path)
        >>> DatasetDict.load_from_disk(path)["train"]["a"]
        [1]
        """
        folder = saved_folder(dataset_dict_path, storage_options)
        splits = saved_splits(folder)
        if splits is None:
            raise ValueError(
                f"{os.fspath(dataset_dict_path)!r} holds one Dataset, not a DatasetDict; use "
                "Dataset.load_from_disk or cp.load_from_disk."
            )
        result: Any = cls()
        for name in splits:
            saved = load_saved_split(folder / name)
            plan = saved.plan
            if keep_in_memory:
                plan = Plan.from_frame(plan.collect(), plan.features)
            info = DatasetInfo.from_dict(saved.info)
            split = saved.split if saved.split is not None else name
            result[name] = DatasetState.new_dataset(plan, info=info, split=split)
        return result

    @classmethod
    def _from_files(
        cls, fmt: str, path_or_paths: Mapping[str, Any], kwargs: dict[str, Any]
    ) -> DatasetDict:
        if not isinstance(path_or_paths, Mapping):
            raise TypeError(
                f"DatasetDict.from_{fmt} takes {{split: path or paths}}, got "
                f"{type(path_or_paths).__name__}; for one split use Dataset.from_{fmt}."
            )
        result: Any = cls()
        for name, paths in path_or_paths.items():
            built = load_files(fmt, paths, {**kwargs, "split": name})
            result[name] = DatasetState.new_dataset(built.plan, info=built.info, split=built.split)
        return result

    @classmethod
    def from_csv(cls, path_or_paths: Mapping[str, Any], **kwargs: Any) -> DatasetDict:
        """Scan CSV files per split: ``{split: path or paths}`` (options as ``Dataset.from_csv``).

        Parameters
        ----------
        path_or_paths
            ``{split: path or paths}``.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset` for every split.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> import tempfile
        >>> from crucible_polars import DatasetDict
        >>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> _ = Dataset.from_dict({"a": [1]}).to_csv(path)
        >>> DatasetDict.from_csv({"train": path})["train"]["a"]
        [1]
        """
        return cls._from_files("csv", path_or_paths, kwargs)

    @classmethod
    def from_json(cls, path_or_paths: Mapping[str, Any], **kwargs: Any) -> DatasetDict:
        """Scan JSON (lines) files per split: ``{split: path or paths}``.

        Parameters
        ----------
        path_or_paths
            ``{split: path or paths}``.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset` for every split.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> import tempfile
        >>> from crucible_polars import DatasetDict
        >>> path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
        >>> _ = Dataset.from_dict({"a": [1]}).to_json(path)
        >>> DatasetDict.from_json({"train": path})["train"]["a"]
        [1]
        """
        return cls._from_files("json", path_or_paths, kwargs)

    @classmethod
    def from_parquet(cls, path_or_paths: Mapping[str, Any], **kwargs: Any) -> DatasetDict:
        """Scan parquet files per split: ``{split: path or paths}``.

        Parameters
        ----------
        path_or_paths
            ``{split: path or paths}``.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset` for every split.

        Examples
        --------
        >>> from crucible_polars import Dataset, DatasetDict
        >>> import tempfile
        >>> from crucible_polars import DatasetDict
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> _ = Dataset.from_dict({"a": [1]}).to_parquet(path)
        >>> DatasetDict.from_parquet({"train": path})["train"]["a"]
        [1]
        """
        return cls._from_files("parquet", path_or_paths, kwargs)

    @classmethod
    def from_text(cls, path_or_paths: Mapping[str, Any], **kwargs: Any) -> DatasetDict:
        """Scan text files per split (one row per line in a ``text`` column).

        Parameters
        ----------
        path_or_paths
            ``{split: path or paths}``.
        **kwargs
            Passed to :func:`~crucible_polars.load_dataset` for every split.

        Examples
        --------
        >>> import tempfile
        >>> from crucible_polars import DatasetDict
        >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> _ = open(path, "w").write("hi\\n")
        >>> DatasetDict.from_text({"train": path})["train"]["text"]
        ['hi']
        """
        return cls._from_files("text", path_or_paths, kwargs)
