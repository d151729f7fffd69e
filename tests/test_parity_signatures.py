"""Every ``datasets`` method we mirror takes ``datasets``' parameters: by name, in its
positional order (at least as far as ours are positional), and the cache and process options
accepted (ignored: there is no cache file) rather than refused; anything else is a
``TypeError``. Differences kept on purpose are listed here and in
docs/migrating-from-datasets.md."""

from __future__ import annotations

import inspect
from typing import Any

import datasets as hf
import numpy as np
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.dataset.options import DATASETS_OPTIONS
from crucible_polars.dataset_dict_functions import FILTER_CACHE, MAP_CACHE
from crucible_polars.udf import FILTER_OPTIONS, MAP_OPTIONS

hf.disable_progress_bars()

FILES = DATASETS_OPTIONS["from_files"] | {"split", "features"}
# parameters ours take through **kwargs / **options (checked, never silently ignored)
THROUGH_KWARGS: dict[tuple[str, str], frozenset[str]] = {
    ("Dataset", "map"): MAP_OPTIONS | {"num_proc", "desc", "try_original_type", "on_mixed_types"},
    ("Dataset", "filter"): FILTER_OPTIONS | {"num_proc", "desc"},
    ("Dataset", "from_csv"): FILES,
    ("Dataset", "from_json"): FILES | {"field"},
    ("Dataset", "from_parquet"): FILES
    | {"columns", "filters", "fragment_scan_options", "on_bad_files"},
    ("Dataset", "from_text"): FILES | {"sample_by"},
    ("DatasetDict", "map"): MAP_CACHE | {"num_proc", "desc", "try_original_type", "on_mixed_types"},
    ("DatasetDict", "filter"): FILTER_CACHE | {"num_proc", "desc"},
    ("DatasetDict", "from_csv"): frozenset({"features", "cache_dir", "keep_in_memory"}),
    ("DatasetDict", "from_json"): frozenset({"features", "cache_dir", "keep_in_memory"}),
    ("DatasetDict", "from_parquet"): frozenset(
        {"features", "cache_dir", "keep_in_memory", "columns"}
    ),
    ("DatasetDict", "from_text"): frozenset({"features", "cache_dir", "keep_in_memory"}),
}
for (owner, method), names in list(THROUGH_KWARGS.items()):
    key = method if owner == "Dataset" else f"DatasetDict.{method}"
    if key in DATASETS_OPTIONS:
        THROUGH_KWARGS[owner, method] = names | DATASETS_OPTIONS[key]
for name, names in DATASETS_OPTIONS.items():
    owner, _, method = name.rpartition(".")
    THROUGH_KWARGS.setdefault((owner or "Dataset", method), names)

# parameters of ours datasets lacks (extensions, listed in the docs)
EXTENSIONS = {
    ("Dataset", "iter", "format"),
    ("Dataset", "iter", "columns"),
    ("Dataset", "iter", "image_size"),
    ("Dataset", "with_format", "format"),
    ("Dataset", "sort", "descending"),
    ("DatasetDict", "sort", "descending"),
    ("Dataset", "from_generator", "batch_size"),
    ("Dataset", "from_generator", "info"),
}
NOT_MIRRORED = {"__getitem__", "__iter__", "__len__", "fromkeys", "get", "popitem"}


def _methods(theirs: type, ours: type) -> list[str]:
    names = []
    for name in sorted(dir(theirs)):
        if name.startswith("_") or name in NOT_MIRRORED or not hasattr(ours, name):
            continue
        if getattr(theirs, name) is getattr(dict, name, None):  # dict's own
            continue
        if not callable(getattr(theirs, name)) or isinstance(getattr(theirs, name), type):
            continue
        names.append(name)
    return names


PAIRS = [("Dataset", hf.Dataset, cp.Dataset), ("DatasetDict", hf.DatasetDict, cp.DatasetDict)]
CASES = [(owner, t, o, m) for owner, t, o in PAIRS for m in _methods(t, o)]


@pytest.mark.parametrize(
    ("owner", "theirs", "ours", "method"), CASES, ids=[f"{c[0]}.{c[3]}" for c in CASES]
)
def test_methods_take_datasets_parameters(
    owner: str, theirs: type, ours: type, method: str
) -> None:
    other = dict(inspect.signature(getattr(theirs, method)).parameters)
    mine = dict(inspect.signature(getattr(ours, method)).parameters)
    other.pop("self", None), mine.pop("self", None)
    kwargs = any(p.kind is p.VAR_KEYWORD for p in mine.values())
    through = THROUGH_KWARGS.get((owner, method), frozenset())
    for name, param in other.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL) or name in mine:
            continue
        assert kwargs and name in through, f"{owner}.{method} lacks {name!r}"
    positional = [n for n, p in other.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    ours_positional = [n for n, p in mine.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert ours_positional == positional[: len(ours_positional)], (
        f"{owner}.{method}: positional {ours_positional} vs datasets' {positional}"
    )
    for name, param in mine.items():
        if name in other or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        assert (owner, method, name) in EXTENSIONS, f"{owner}.{method}: {name!r} is ours only"


def test_features_methods_take_datasets_parameters() -> None:
    for method in ("from_arrow_schema", "setdefault", "reorder_fields_as", "encode_example"):
        other = list(inspect.signature(getattr(hf.Features, method)).parameters)
        mine = list(inspect.signature(getattr(cp.Features, method)).parameters)
        assert mine == other, method


def _pair() -> tuple[cp.Dataset, hf.Dataset]:
    data = {"a": [3, 1, 2, 1], "b": ["x", "y", "z", "w"]}
    return cp.Dataset.from_dict(data), hf.Dataset.from_dict(data)


CALLS: dict[str, Any] = {
    "map positional": lambda m, ds: ds.map(lambda r, i: {"i": i}, True)[:],
    "filter positional": lambda m, ds: ds.filter(lambda r, i: i % 2 == 0, True)[:],
    "filter no function": lambda m, ds: ds.filter()[:],
    "sort reverse positional": lambda m, ds: ds.sort("a", True, "at_start")[:],
    "shuffle generator positional": lambda m, ds: ds.shuffle(None, np.random.default_rng(3))[:],
    "cast options": lambda m, ds: ds.cast(
        m.Features({"a": m.Value("int32"), "b": m.Value("string")}), batch_size=2, num_proc=2
    )[:],
    "new_fingerprint": lambda m, ds: ds.rename_column("a", "c", new_fingerprint="f")[:],
    "select cache": lambda m, ds: ds.select([1, 0], keep_in_memory=True)[:],
    "select desc": lambda m, ds: ds.select([1], desc="x"),
    "shard num_proc": lambda m, ds: ds.shard(2, 0, num_proc=2),
    "flatten_indices options": lambda m, ds: ds.select([2, 0]).flatten_indices(num_proc=2)[:],
    "from_generator split": lambda m, ds: str(
        m.Dataset.from_generator(lambda: iter([{"a": 1}])).split
    ),
    "from_list mapping": lambda m, ds: m.Dataset.from_list(mapping=[{"a": 1}])[:],
    "from_polars df": lambda m, ds: m.Dataset.from_polars(df=pl.DataFrame({"a": [1]}))[:],
    "from_pandas positional": lambda m, ds: (
        m.Dataset.from_pandas(pl.DataFrame({"a": [1]}).to_pandas(), None, None, "train").split
    ),
    "unknown keyword": lambda m, ds: ds.rename_column("a", "c", colour=1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_calls_as_in_datasets(name: str) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from parity_oracle import same_outcome

    ours, theirs = _pair()
    same_outcome(lambda: CALLS[name](cp, ours), lambda: CALLS[name](hf, theirs), name)


def _dicts() -> tuple[cp.DatasetDict, hf.DatasetDict]:
    data = {"a": [3, 1, 2]}
    return (
        cp.DatasetDict(train=cp.Dataset.from_dict(data), test=cp.Dataset.from_dict(data)),
        hf.DatasetDict(train=hf.Dataset.from_dict(data), test=hf.Dataset.from_dict(data)),
    )


def _tag(row: dict[str, Any], index: int, split: str) -> dict[str, Any]:
    return {"tag": f"{split}-{index}"}


DICT_CALLS: dict[str, Any] = {
    "map with_split": lambda dd: dd.map(_tag, with_indices=True, with_split=True),
    "map cache_file_names": lambda dd: dd.map(
        lambda r: r, cache_file_names={"train": None, "test": None}
    ),
    "filter cache_file_names": lambda dd: dd.filter(lambda r: r["a"] > 1, cache_file_names=None),
    "sort positional": lambda dd: dd.sort("a", True),
    "shuffle seeds positional": lambda dd: dd.shuffle({"train": 1, "test": 2}),
    "shuffle one seed positional": lambda dd: dd.shuffle(5),
    "flatten_indices options": lambda dd: dd.flatten_indices(num_proc=2),
}


@pytest.mark.parametrize("name", list(DICT_CALLS))
def test_dataset_dict_calls_as_in_datasets(name: str) -> None:
    ours, theirs = _dicts()
    got, expected = DICT_CALLS[name](ours), DICT_CALLS[name](theirs)
    assert {k: v[:] for k, v in got.items()} == {k: v[:] for k, v in expected.items()}
