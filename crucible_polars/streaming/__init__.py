"""Streaming: IterableDataset over files and row groups, with bounded memory.

``load_dataset(..., streaming=True)`` and :meth:`Dataset.to_iterable_dataset` return an
:class:`IterableDataset`: it reads parquet row group by row group (only the byte ranges of
the projected columns, skipping row groups whose statistics rule out the filters), JSON
lines, CSV and text in line-aligned chunks, resumes exactly from ``state_dict()``, and
divides its files, row groups or rows between ranks (:func:`split_dataset_by_node`) and
DataLoader workers.

Modules: ``ranges`` (byte access with retries), ``parquet`` and ``lines`` (readers),
``source`` (units of work, read-ahead), ``nodes`` (resumable pipeline steps), ``pipeline``
(steps to nodes), ``sharding`` (dividing units), ``iterable`` (the public class; its column
transforms in ``iterable_columns``, its row transforms in ``iterable_rows``, its resume
state in ``state``), ``iterable_dict``,
``transforms`` (picklable expression steps), ``mixing`` (streams joined), ``build`` (from
a load plan or a Dataset), ``distributed`` (DataLoader workers), ``by_node`` (ranks).

Examples
--------
>>> import crucible_polars as cp
>>> ds = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
>>> [row["a"] for row in ds.skip(1)]
[2, 3]
"""

from __future__ import annotations

from crucible_polars.streaming.build import iterable_from_dataset_plan, iterable_from_plan
from crucible_polars.streaming.by_node import split_dataset_by_node
from crucible_polars.streaming.iterable import IterableDataset
from crucible_polars.streaming.iterable_dict import IterableDatasetDict

__all__ = [
    "IterableDataset",
    "IterableDatasetDict",
    "iterable_from_dataset_plan",
    "iterable_from_plan",
    "split_dataset_by_node",
]
