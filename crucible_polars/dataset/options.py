"""``datasets``' cache and process options, method by method: accepted and ignored.

A ``datasets`` method writes its result to a cache file (``keep_in_memory``,
``cache_file_name``, ``new_fingerprint``, ...) and may spread the work over processes
(``num_proc``). A dataset here is a lazy Polars plan: there is no cache file, and Polars
runs on every core. So each method accepts exactly the options its ``datasets`` namesake
takes, with any value, and nothing else: an unknown keyword is a ``TypeError``, as there.
(``map``/``filter`` run Python functions: their ``num_proc`` and ``desc`` work, see
:mod:`crucible_polars.udf`.)

Examples
--------
>>> check("select", {"keep_in_memory": True})
>>> check("select", {"desc": "x"})
Traceback (most recent call last):
TypeError: select() got unexpected keyword arguments ['desc']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crucible_polars.udf import check_options

__all__ = ["DATASETS_OPTIONS", "check", "check_mixed_types"]

_FINGERPRINT = frozenset({"new_fingerprint"})
_INDICES = frozenset({"keep_in_memory", "indices_cache_file_name", "writer_batch_size"})
_FROM_FILES = frozenset({"cache_dir", "keep_in_memory", "num_proc"})

DATASETS_OPTIONS: Mapping[str, frozenset[str]] = {
    "add_column": _FINGERPRINT,
    "add_item": _FINGERPRINT,
    "cast_column": _FINGERPRINT,
    "flatten": _FINGERPRINT,
    "remove_columns": _FINGERPRINT,
    "rename_column": _FINGERPRINT,
    "rename_columns": _FINGERPRINT,
    "select_columns": _FINGERPRINT,
    "cast": frozenset(
        {
            "batch_size",
            "keep_in_memory",
            "load_from_cache_file",
            "cache_file_name",
            "writer_batch_size",
            "num_proc",
        }
    ),
    "flatten_indices": frozenset(
        {
            "keep_in_memory",
            "cache_file_name",
            "writer_batch_size",
            "disable_nullable",
            "num_proc",
            "new_fingerprint",
        }
    ),
    "select": _INDICES | _FINGERPRINT,
    "shard": _INDICES,
    "shuffle": _INDICES | _FINGERPRINT | {"load_from_cache_file"},
    "sort": _INDICES | _FINGERPRINT | {"load_from_cache_file"},
    "train_test_split": frozenset(
        {
            "keep_in_memory",
            "load_from_cache_file",
            "train_indices_cache_file_name",
            "test_indices_cache_file_name",
            "writer_batch_size",
            "train_new_fingerprint",
            "test_new_fingerprint",
        }
    ),
    "from_generator": _FROM_FILES | {"fingerprint"},
    "from_files": _FROM_FILES,  # from_csv, from_json, from_parquet, from_text
    "save_to_disk": frozenset({"num_proc"}),
    # DatasetDict (one cache file per split)
    "DatasetDict.shuffle": frozenset(
        {"keep_in_memory", "load_from_cache_file", "indices_cache_file_names", "writer_batch_size"}
    ),
    "DatasetDict.sort": frozenset(
        {"keep_in_memory", "load_from_cache_file", "indices_cache_file_names", "writer_batch_size"}
    ),
    "DatasetDict.flatten_indices": frozenset(
        {
            "keep_in_memory",
            "cache_file_names",
            "writer_batch_size",
            "disable_nullable",
            "num_proc",
            "new_fingerprint",
        }
    ),
    "DatasetDict.from_files": frozenset({"cache_dir", "keep_in_memory"}),
}
"""The options of each method that only matter to ``datasets``' cache and processes."""


def check(method: str, options: Mapping[str, Any], label: str | None = None) -> None:
    """Accept ``datasets``' cache and process options of ``method``; refuse any other.

    Parameters
    ----------
    method
        A key of :data:`DATASETS_OPTIONS` (the method's name, ``DatasetDict.`` first for
        those of a dataset dictionary).
    options
        The extra keyword arguments given.
    label
        How the error names the method (default: ``method``).

    Raises
    ------
    TypeError
        Naming the keyword arguments the ``datasets`` method does not take either.

    Examples
    --------
    >>> check("cast", {"batch_size": 100, "num_proc": 4})
    """
    check_options(options, label or method, DATASETS_OPTIONS[method])


def check_mixed_types(on_mixed_types: str | None) -> None:
    """Refuse ``on_mixed_types="use_json"`` (not implemented; never ignored).

    Parameters
    ----------
    on_mixed_types
        As given to ``from_dict``, ``from_list`` or ``map``: only ``None`` is supported.

    Examples
    --------
    >>> check_mixed_types(None)
    """
    if on_mixed_types is not None:
        raise NotImplementedError(
            f"on_mixed_types={on_mixed_types!r} is not supported: give values of one type per "
            "column (or cast them to text first), or pass features=..."
        )
