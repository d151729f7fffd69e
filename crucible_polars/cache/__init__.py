"""The Hub download cache: what it holds, pruning it, verifying it, clearing it.

Datasets loaded from the Hub live in the ``huggingface_hub`` cache (``HF_HUB_CACHE``, by
default ``~/.cache/huggingface/hub``): ``datasets--{owner}--{name}/`` with ``blobs/`` (the file
contents, named by their ETag), ``snapshots/{commit}/`` (the repository tree as symlinks to
blobs) and ``refs/{branch}`` (the commit a branch or tag pointed to when last resolved). This
module reads it with ``huggingface_hub.scan_cache_dir`` and deletes with its
``DeleteCacheStrategy``; only **dataset** repositories are reported or touched (models and
spaces in the same cache are left alone).

``info``, ``verify`` and ``clear`` overlap ``hf cache ls``, ``hf cache verify`` and
``hf cache rm``; what ``hf`` lacks is :func:`prune` by least recent use (``max_size``,
``older_than``), the all-datasets ``verify`` with an offline ETag fallback and
``remove_corrupt``. Refs are removed before their snapshots, so an interrupted deletion never
leaves a ref naming a missing snapshot (see :mod:`crucible_polars.cache._delete`).

Rows that random access materialized (``ds.shuffle(...)[i]``, ``flatten_indices``) are Arrow
files in the crucible_polars cache: :func:`materialized_info` and :func:`clear_materialized`.

Timestamps: "last used" is the latest access or modification time of a revision's blobs.
Access times depend on the filesystem (``relatime`` updates them at most daily), so LRU
order is day-accurate on most systems.

Examples
--------
>>> import crucible_polars as cp
>>> parse_size("10GB"), parse_size("1.5KiB"), parse_size(1024)
(10000000000, 1536, 1024)
>>> parse_duration("7d"), parse_duration("1h30m")
(datetime.timedelta(days=7), datetime.timedelta(seconds=5400))
"""

from __future__ import annotations

from crucible_polars.cache._delete import CacheDeletion, RemovedRevision, clear, prune
from crucible_polars.cache._info import CacheInfo, info
from crucible_polars.cache._materialized import (
    MaterializedRows,
    clear_materialized,
    materialized_info,
)
from crucible_polars.cache._verify import FileCheck, VerifyReport, verify
from crucible_polars.cache.common import (
    default_cache_dir,
    format_size,
    parse_duration,
    parse_size,
)

__all__ = [
    "CacheDeletion",
    "CacheInfo",
    "FileCheck",
    "MaterializedRows",
    "RemovedRevision",
    "VerifyReport",
    "clear",
    "clear_materialized",
    "default_cache_dir",
    "format_size",
    "info",
    "materialized_info",
    "parse_duration",
    "parse_size",
    "prune",
    "verify",
]
