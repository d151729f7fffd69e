"""``save_to_disk`` / ``load_from_disk`` interoperate with ``datasets`` both ways (issue 13),
and the ``arrow`` builder reads ``.arrow`` data files."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.sources.open import cache_root


def _png(mode: str, size: tuple[int, int], color: Any) -> bytes:
    buf = io.BytesIO()
    PIL.Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


FEATURES = {
    "label": {"names": ["cat", "dog"], "_type": "ClassLabel"},
    "tokens": {
        "feature": {"feature": {"dtype": "int32", "_type": "Value"}, "_type": "List"},
        "_type": "List",
    },
    "image": {"_type": "Image"},
    "grid": {"shape": [2, 3], "dtype": "float32", "_type": "Array2D"},
}
ROWS: dict[str, list[Any]] = {
    "label": [0, 1, 1],
    "tokens": [[[1, 2], [3]], [], [[4]]],
    "image": [
        {"bytes": _png("RGB", (4, 3), (255, 0, 0)), "path": None},
        {"bytes": _png("L", (2, 2), 7), "path": None},
        {"bytes": _png("RGB", (1, 1), (0, 0, 9)), "path": None},
    ],
    "grid": [np.arange(6, dtype="float32").reshape(2, 3).tolist()] * 3,
}


def _comparable(ds: Any) -> list[dict[str, Any]]:
    out = []
    for row in (ds[i] for i in range(len(ds))):
        image = row["image"]
        out.append(
            {
                **row,
                "image": (image.size, image.mode, image.tobytes()),
                "grid": np.asarray(row["grid"]).tolist(),
            }
        )
    return out


def _theirs() -> Any:
    import datasets

    return datasets.Dataset.from_dict(ROWS, features=datasets.Features.from_dict(FEATURES))


def _ours() -> cp.Dataset:
    return cp.Dataset.from_dict(ROWS, features=cp.Features.from_dict(FEATURES))


def test_we_load_what_datasets_saved(tmp_path: Path) -> None:
    import datasets

    theirs = _theirs()
    theirs.save_to_disk(str(tmp_path / "one"))
    ours = cp.load_from_disk(tmp_path / "one")
    assert isinstance(ours, cp.Dataset)
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert len(ours) == 3
    assert _comparable(ours) == _comparable(theirs)
    dsd = datasets.DatasetDict(train=theirs, test=theirs.select([2]))
    dsd.save_to_disk(str(tmp_path / "dict"))
    back = cp.load_from_disk(tmp_path / "dict")
    assert isinstance(back, cp.DatasetDict)
    assert back.num_rows == {"train": 3, "test": 1}
    assert _comparable(back["test"]) == _comparable(dsd["test"])


def test_datasets_loads_what_we_saved(tmp_path: Path) -> None:
    import datasets

    ours = _ours()
    ours.save_to_disk(tmp_path / "one", num_shards=2)
    theirs = datasets.load_from_disk(str(tmp_path / "one"))
    assert theirs.features.to_dict() == ours.features.to_dict()
    assert _comparable(theirs) == _comparable(ours)
    cp.DatasetDict(train=ours, test=ours.select([0])).save_to_disk(tmp_path / "dict")
    back = datasets.load_from_disk(str(tmp_path / "dict"))
    assert {s: len(d) for s, d in back.items()} == {"train": 3, "test": 1}
    assert back["test"].features.to_dict() == ours.features.to_dict()
    again = cp.load_from_disk(tmp_path / "dict")
    assert _comparable(again["train"]) == _comparable(ours)


def test_the_old_parquet_layout_still_loads(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    pl.DataFrame({"a": [1, 2]}).write_parquet(folder / "data-00000-of-00001.parquet")
    info = {"features": {"a": {"dtype": "int64", "_type": "Value"}}, "split": "train"}
    (folder / "dataset_info.json").write_text(json.dumps({**info, "num_rows": 2}))
    ds = cp.load_from_disk(folder)
    assert isinstance(ds, cp.Dataset)
    assert ds["a"] == [1, 2] and ds.split == "train"


def test_a_missing_shard_or_a_wrong_folder_is_named(tmp_path: Path) -> None:
    _ours().save_to_disk(tmp_path / "one", num_shards=3)
    (tmp_path / "one" / "data-00001-of-00003.arrow").unlink()
    with pytest.raises(FileNotFoundError, match=r"data-00001-of-00003\.arrow"):
        cp.load_from_disk(tmp_path / "one")
    (tmp_path / "plain").mkdir()
    with pytest.raises(FileNotFoundError, match="save_to_disk did not write it"):
        cp.load_from_disk(tmp_path / "plain")


def test_arrow_builder_and_arrow_files_match_datasets(tmp_path: Path) -> None:
    import datasets

    theirs = _theirs()
    theirs.save_to_disk(str(tmp_path / "saved"))
    files = str(tmp_path / "saved" / "*.arrow")
    ours = cp.load_dataset("arrow", data_files=files, split="train")
    again = datasets.load_dataset("arrow", data_files=files, split="train")
    assert ours.features.to_dict() == again.features.to_dict()
    assert _comparable(ours) == _comparable(again)
    # mmlu-redux style: one save_to_disk folder per subject inside a repository
    for subject in ("anatomy", "astronomy"):
        theirs.select([0, 1]).save_to_disk(str(tmp_path / "repo" / subject))
    for name in ("anatomy", "astronomy"):
        ours_subject = cp.load_dataset(str(tmp_path / "repo"), data_dir=name, split="train")
        assert len(ours_subject) == 2
        assert ours_subject.features.to_dict() == theirs.features.to_dict()


def test_arrow_with_unknown_option_is_refused(tmp_path: Path) -> None:
    _ours().save_to_disk(tmp_path / "saved")
    with pytest.raises(TypeError, match="columnz"):
        cp.load_dataset("arrow", data_files=str(tmp_path / "saved" / "*.arrow"), columnz=["a"])


def test_mmlu_redux_like_hub_repo_of_save_to_disk_folders(hub: Any, tmp_path: Path) -> None:
    """edinburgh-dawg/mmlu-redux stores one save_to_disk folder per subject: it loads
    through the test Hub with the same rows and Features as datasets."""
    import datasets

    rows = {"question": ["q1", "q2"], "choices": [["a", "b"], ["c"]], "answer": [0, 1]}
    features = datasets.Features(
        {
            "question": datasets.Value("string"),
            "choices": datasets.List(datasets.Value("string")),
            "answer": datasets.ClassLabel(names=["A", "B"]),
        }
    )
    files: dict[str, bytes] = {}
    subjects = ("anatomy", "astronomy")
    for subject in subjects:
        folder = tmp_path / "repo" / subject
        datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(folder))
        for file in folder.iterdir():
            files[f"{subject}/{file.name}"] = file.read_bytes()
    configs = "".join(
        f"- config_name: {s}\n  data_files:\n  - split: test\n    path: {s}/data-*\n"
        for s in subjects
    )
    files["README.md"] = f"---\nconfigs:\n{configs}---\n".encode()
    repo = "mmlu-redux-t/mmlu-redux"
    hub.add_repo(repo, files)
    for subject in subjects:
        ours = cp.load_dataset(repo, subject, split="test", cache_dir=tmp_path / "cache")
        theirs = datasets.load_dataset(repo, subject, split="test")
        assert ours.features.to_dict() == theirs.features.to_dict()
        assert ours.to_list() == theirs.to_list()
        assert len(ours) == 2


def _memory_root(tmp_path: Path) -> str:
    return f"memory://saved-{tmp_path.name}"


def test_load_from_disk_reads_fsspec_urls_datasets_saved(tmp_path: Path) -> None:
    import datasets

    theirs = _theirs()
    root = _memory_root(tmp_path)
    theirs.save_to_disk(f"{root}/one")
    dsd = datasets.DatasetDict(train=theirs, test=theirs.select([2]))
    dsd.save_to_disk(f"{root}/dict")
    for ours in (cp.load_from_disk(f"{root}/one"), cp.Dataset.load_from_disk(f"{root}/one")):
        assert isinstance(ours, cp.Dataset)
        assert ours.features.to_dict() == theirs.features.to_dict()
        assert _comparable(ours) == _comparable(datasets.load_from_disk(f"{root}/one"))
    for back in (cp.load_from_disk(f"{root}/dict"), cp.DatasetDict.load_from_disk(f"{root}/dict")):
        assert isinstance(back, cp.DatasetDict)
        assert back.num_rows == {"train": 3, "test": 1}
        assert _comparable(back["test"]) == _comparable(dsd["test"])
    kept = cp.load_from_disk(f"{root}/one", keep_in_memory=True)
    assert _comparable(kept) == _comparable(theirs)


def test_load_from_disk_file_urls_and_datasets_reads_ours_over_fsspec(tmp_path: Path) -> None:
    import datasets
    import fsspec

    ours = _ours()
    ours.save_to_disk(tmp_path / "one", num_shards=2)
    assert _comparable(cp.load_from_disk(f"file://{tmp_path / 'one'}")) == _comparable(ours)
    fs = fsspec.filesystem("memory")
    root = _memory_root(tmp_path)
    fs.put(str(tmp_path / "one"), f"{root}/ours", recursive=True)
    theirs = datasets.load_from_disk(f"{root}/ours")
    assert _comparable(theirs) == _comparable(cp.load_from_disk(f"{root}/ours"))


def test_load_from_disk_url_is_copied_once_and_again_when_changed(tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    root = _memory_root(tmp_path)
    cp.Dataset.from_dict({"a": [1]}).save_to_disk(tmp_path / "v1")
    fs.put(str(tmp_path / "v1"), f"{root}/x", recursive=True)
    first = cp.load_from_disk(f"{root}/x")
    assert first["a"] == [1]
    copied = {p for p in (cache_root() / "downloads").iterdir()}
    assert cp.load_from_disk(f"{root}/x")["a"] == [1]
    assert {p for p in (cache_root() / "downloads").iterdir()} == copied  # no copy
    cp.Dataset.from_dict({"a": [2, 3]}).save_to_disk(tmp_path / "v2")
    fs.rm(f"{root}/x", recursive=True)
    fs.put(str(tmp_path / "v2"), f"{root}/x", recursive=True)
    assert cp.load_from_disk(f"{root}/x")["a"] == [2, 3]
    assert first["a"] == [1]  # the earlier copy stays valid for the dataset reading it


def test_load_from_disk_honours_storage_options(tmp_path: Path) -> None:
    import fsspec

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_load_fsspec import SecretMemoryFileSystem  # registers "secretmem"

    assert SecretMemoryFileSystem.protocol == ("secretmem",)
    cp.Dataset.from_dict({"a": [7]}).save_to_disk(tmp_path / "saved")
    fs = fsspec.filesystem("memory")
    fs.put(str(tmp_path / "saved"), f"/secret-{tmp_path.name}/saved", recursive=True)
    url = f"secretmem://secret-{tmp_path.name}/saved"
    with pytest.raises(PermissionError):
        cp.load_from_disk(url, storage_options={"secret": "nope"})
    assert cp.load_from_disk(url, storage_options={"secret": "open sesame"})["a"] == [7]


def test_load_from_disk_url_without_a_saved_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="memory://nothing-here"):
        cp.load_from_disk(f"memory://nothing-here-{tmp_path.name}")
    with pytest.raises(ValueError, match="storage_options"):
        cp.load_from_disk(tmp_path, storage_options={"anon": True})
