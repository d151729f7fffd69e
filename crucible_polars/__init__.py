"""crucible_polars: HuggingFace-datasets-style datasets where every dataset is a lazy Polars frame.

Examples
--------
>>> import polars as pl
>>> import crucible_polars as cp
>>> ds = cp.Dataset.from_dict({"question": ["1+1?", "2+2?"], "answer": ["2", "4"]})
>>> ds.filter(pl.col("answer") == "4")[0]
{'question': '2+2?', 'answer': '4'}
"""

from __future__ import annotations

from crucible_polars import cache, catalog, errors, hub, logging
from crucible_polars.combine import concatenate_datasets, interleave_datasets
from crucible_polars.dataset import Dataset
from crucible_polars.dataset_dict import DatasetDict
from crucible_polars.features import (
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Audio,
    ClassLabel,
    Features,
    Image,
    LargeList,
    List,
    Sequence,
    Value,
)
from crucible_polars.info import DatasetInfo
from crucible_polars.load import load_dataset, load_from_disk
from crucible_polars.progress import (
    are_progress_bars_disabled,
    disable_progress_bars,
    enable_progress_bars,
)
from crucible_polars.streaming import IterableDataset, IterableDatasetDict, split_dataset_by_node

__version__ = "0.1.0"

__all__ = [
    "Array2D",
    "Array3D",
    "Array4D",
    "Array5D",
    "Audio",
    "ClassLabel",
    "Dataset",
    "DatasetDict",
    "DatasetInfo",
    "Features",
    "Image",
    "IterableDataset",
    "IterableDatasetDict",
    "LargeList",
    "List",
    "Sequence",
    "Value",
    "are_progress_bars_disabled",
    "cache",
    "catalog",
    "concatenate_datasets",
    "disable_progress_bars",
    "enable_progress_bars",
    "errors",
    "hub",
    "interleave_datasets",
    "load_dataset",
    "load_from_disk",
    "logging",
    "split_dataset_by_node",
]
