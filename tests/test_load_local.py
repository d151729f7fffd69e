"""Local loading, differential against ``datasets`` on the same folders (real GSM8K data)."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import crucible_polars as cp

Layout = Callable[[Path, Path], None]


def _jsonl_pair(src: Path, dst: Path) -> None:
    shutil.copy(src / "train.jsonl", dst / "train.jsonl")
    shutil.copy(src / "test.jsonl", dst / "test.jsonl")


def _parquet_shards(src: Path, dst: Path) -> None:
    (dst / "data").mkdir()
    for split in ("train", "test"):
        frame = pl.read_ndjson(src / f"{split}.jsonl")
        frame.write_parquet(dst / "data" / f"{split}-00000-of-00001.parquet")


def _split_folders(src: Path, dst: Path) -> None:
    for split in ("train", "test"):
        frame = pl.read_ndjson(src / f"{split}.jsonl")
        (dst / "data" / split).mkdir(parents=True)
        half = frame.height // 2
        frame.head(half).write_ndjson(dst / "data" / split / "shard_0.jsonl")
        frame.slice(half).write_ndjson(dst / "data" / split / "shard_1.jsonl")


def _gzip_and_dev(src: Path, dst: Path) -> None:
    (dst / "train.jsonl.gz").write_bytes(gzip.compress((src / "train.jsonl").read_bytes()))
    shutil.copy(src / "test.jsonl", dst / "dev.jsonl")


def _csv_tsv(src: Path, dst: Path) -> None:
    pl.read_ndjson(src / "test.jsonl").head(300).write_csv(dst / "validation.tsv", separator="\t")


LAYOUTS: dict[str, Layout] = {
    "jsonl": _jsonl_pair,
    "parquet-shards": _parquet_shards,
    "split-folders": _split_folders,
    "gzip-and-dev": _gzip_and_dev,
    "tsv": _csv_tsv,
}


def _hf_summary(path: str, **kwargs: Any) -> dict[str, Any]:
    import datasets

    dsd = datasets.load_dataset(path, **kwargs)
    return {
        split: (ds.features.to_dict(), ds.column_names, ds.to_list()) for split, ds in dsd.items()
    }


def _our_summary(path: str, **kwargs: Any) -> dict[str, Any]:
    dsd = cp.load_dataset(path, **kwargs)
    return {
        split: (ds.features.to_dict(), ds.column_names, ds.to_list()) for split, ds in dsd.items()
    }


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_folder_layouts_match_datasets(layout: str, gsm8k_dir: Path, tmp_path: Path) -> None:
    LAYOUTS[layout](gsm8k_dir, tmp_path)
    ours, theirs = _our_summary(str(tmp_path)), _hf_summary(str(tmp_path))
    assert list(ours) == list(theirs)
    for split in theirs:
        assert ours[split][0] == theirs[split][0], split
        assert ours[split][1] == theirs[split][1], split
        assert ours[split][2] == theirs[split][2], split


def test_readme_configs_match_datasets(gsm8k_dir: Path, tmp_path: Path) -> None:
    for config, suffix in (("main", ""), ("socratic", "_socratic")):
        (tmp_path / config).mkdir()
        shutil.copy(gsm8k_dir / f"test{suffix}.jsonl", tmp_path / config / "test.jsonl")
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n"
        "- config_name: main\n  data_files:\n  - split: test\n    path: main/test.jsonl\n"
        "- config_name: socratic\n  data_files:\n  - split: test\n    path: socratic/test.jsonl\n"
        "---\n# gsm8k\n"
    )
    for config in ("main", "socratic"):
        assert _our_summary(str(tmp_path), name=config) == _hf_summary(str(tmp_path), name=config)
    with pytest.raises(cp.errors.ConfigNotFoundError, match="main, socratic"):
        cp.load_dataset(str(tmp_path), name="nope")
    with pytest.raises(ValueError, match="Config name is missing"):
        cp.load_dataset(str(tmp_path))


def test_packaged_format_with_data_files(gsm8k_dir: Path) -> None:
    files = {"train": str(gsm8k_dir / "train.jsonl"), "test": str(gsm8k_dir / "test.jsonl")}
    dsd = cp.load_dataset("json", data_files=files)
    assert dsd.num_rows == {"train": 7473, "test": 1319}
    ds = cp.load_dataset("json", data_files=str(gsm8k_dir / "t*.jsonl"), split="train")
    assert len(ds) == 7473 + 1319 + 1319  # one "train" split: test, test_socratic, train


def test_columns_and_filters_are_pushed_into_the_scan(gsm8k_dir: Path, tmp_path: Path) -> None:
    _parquet_shards(gsm8k_dir, tmp_path)
    ds = cp.load_dataset(
        str(tmp_path),
        split="train",
        columns=["question"],
        filters=pl.col("answer").str.contains("####"),
    )
    plan = ds.explain()
    scan_line = next(line for line in plan.splitlines() if "Parquet SCAN" in line or "SCAN" in line)
    assert "SCAN" in scan_line
    assert "PROJECT" in plan and "SELECTION" in plan
    assert ds.column_names == ["question"]
    assert len(ds) == 7473


def test_text_format_matches_datasets(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("first line\n\nthird, with comma\r\nlast without newline")
    ours = cp.load_dataset("text", data_files=str(tmp_path / "a.txt"), split="train")
    import datasets

    theirs = datasets.load_dataset("text", data_files=str(tmp_path / "a.txt"), split="train")
    assert ours.to_dict() == theirs.to_dict()
    assert ours.features.to_dict() == theirs.features.to_dict()


def test_json_document_array_and_field(tmp_path: Path) -> None:
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    (tmp_path / "array.json").write_text(json.dumps(rows, indent=2))
    (tmp_path / "nested.json").write_text(json.dumps({"version": 1, "data": rows}))
    ours = cp.load_dataset("json", data_files=str(tmp_path / "array.json"), split="train")
    assert ours.to_list() == rows
    nested = cp.load_dataset(
        "json", data_files=str(tmp_path / "nested.json"), field="data", split="train"
    )
    assert nested.to_list() == rows
    import datasets

    theirs = datasets.load_dataset(
        "json", data_files=str(tmp_path / "nested.json"), field="data", split="train"
    )
    assert nested.to_list() == theirs.to_list()


@pytest.mark.parametrize("suffix", [".bz2", ".xz", ".zst", ".gz"])
def test_compressed_json_lines(suffix: str, tmp_path: Path) -> None:
    import bz2
    import lzma

    import zstandard

    data = b"".join(json.dumps({"i": i, "s": str(i)}).encode() + b"\n" for i in range(500))
    compress = {
        ".bz2": bz2.compress,
        ".xz": lzma.compress,
        ".gz": gzip.compress,
        ".zst": zstandard.ZstdCompressor().compress,
    }[suffix]
    (tmp_path / f"train.jsonl{suffix}").write_bytes(compress(data))
    ds = cp.load_dataset(str(tmp_path), split="train")
    assert ds["i"] == list(range(500))
    assert ds.filter(pl.col("i") < 3)["s"] == ["0", "1", "2"]


def test_dataset_dict_repr_and_split_slicing(gsm8k_dir: Path, tmp_path: Path) -> None:
    _jsonl_pair(gsm8k_dir, tmp_path)
    dsd = cp.load_dataset(str(tmp_path))
    assert "train" in repr(dsd) and "num_rows: 7473" in repr(dsd)
    assert len(cp.load_dataset(str(tmp_path), split="train[:10%]")) == 747
    assert len(cp.load_dataset(str(tmp_path), split="train[:10]+test[-5:]")) == 15


def test_data_dir_and_config_data_dir_match_datasets(gsm8k_dir: Path, tmp_path: Path) -> None:
    for config, suffix in (("main", ""), ("socratic", "_socratic")):
        (tmp_path / config).mkdir()
        rows = pl.read_ndjson(gsm8k_dir / f"test{suffix}.jsonl").head(50)
        rows.write_parquet(tmp_path / config / "test-00000-of-00001.parquet")
    assert _our_summary(str(tmp_path), data_dir="socratic") == _hf_summary(
        str(tmp_path), data_dir="socratic"
    )
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: main\n  data_dir: main\n  default: true\n"
        "- config_name: socratic\n  data_dir: socratic\n---\n"
    )
    for name in ("main", "socratic"):
        assert _our_summary(str(tmp_path), name=name) == _hf_summary(str(tmp_path), name=name)
    assert cp.load_dataset(str(tmp_path)).num_rows == {"test": 50}  # default: true


def test_nested_dict_parquet_written_by_datasets(tmp_path: Path) -> None:
    import datasets

    features = datasets.Features(
        {
            "meta": {
                "source": datasets.Value("string"),
                "scores": datasets.List(datasets.Value("float32")),
            },
            "pairs": datasets.Sequence(
                {"a": datasets.Value("int32"), "b": datasets.Value("string")}
            ),
            "label": datasets.ClassLabel(names=["x", "y", "z"]),
        }
    )
    data = {
        "meta": [{"source": "s1", "scores": [0.5]}, {"source": "s2", "scores": []}],
        "pairs": [{"a": [1, 2], "b": ["p", "q"]}, {"a": [], "b": []}],
        "label": [2, 0],
    }
    theirs = datasets.Dataset.from_dict(data, features=features)
    theirs.to_parquet(str(tmp_path / "train-00000-of-00001.parquet"))
    ours = cp.load_dataset(str(tmp_path), split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.to_list() == theirs.to_list()
    assert ours.column_names == theirs.column_names


@pytest.mark.parametrize(
    "pattern",
    ["data/**/*.parquet", "**/train[-._ 0-9]*", "*.csv", "data/*", "data/**", "**/*[-._ 0-9]test*"],
)
def test_glob_matching_is_fsspecs(pattern: str) -> None:
    """Data-file globs match what ``fsspec``'s ``glob`` (hence ``datasets``) matches."""
    from fsspec.implementations.memory import MemoryFileSystem

    from crucible_polars.resolve.patterns import match_files

    files = [
        "a.csv",
        "data/x.parquet",
        "data/a/b/x.parquet",
        "data/train-0.csv",
        "sub/test_1.csv",
        "data/a/my-test.json",
        "data/a/train.csv",
    ]
    fs = MemoryFileSystem()
    root = f"/glob-parity-{abs(hash(pattern))}"
    for name in files:
        fs.pipe(f"{root}/{name}", b"")
    expected = sorted(p[len(root) + 1 :] for p in fs.glob(f"{root}/{pattern}") if fs.isfile(p))
    assert match_files(pattern, files) == expected


def test_configs_mapping_in_the_card_is_refused(tmp_path: Path) -> None:
    """A ``configs:`` mapping (not a list) fails loudly, naming the README, as in ``datasets``."""
    (tmp_path / "train.csv").write_text("a\n1\n")
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n  config_name: main\n  data_files: train.csv\n---\n# Card\n"
    )
    with pytest.raises(ValueError, match=r"README\.md.*`configs:` must be a list"):
        cp.load_dataset(str(tmp_path))
    import datasets

    with pytest.raises(ValueError, match="configs"):
        datasets.load_dataset(str(tmp_path))
