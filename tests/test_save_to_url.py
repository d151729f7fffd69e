"""``save_to_disk`` to fsspec URLs (``memory://``, ``file://``) with ``storage_options``, and
``num_shards`` / ``max_shard_size`` / ``num_proc`` counted as ``datasets`` counts them
(issue 13): round trips both ways, the folder whole or not at all."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pytest
from fsspec.implementations.memory import MemoryFileSystem

import crucible_polars as cp
from crucible_polars.errors import DataFilesNotFoundError

ROWS = {
    "id": list(range(40)),
    "text": [f"row {i} " + "x" * (i % 7) * 20 for i in range(40)],
    "values": [[float(j) for j in range(i % 5)] if i % 6 else None for i in range(40)],
}


def _memory_url() -> str:
    return f"memory://save-{uuid.uuid4().hex[:8]}/saved"


def _shards(fs: Any, root: str) -> list[int]:
    """The rows of each shard listed in ``state.json``."""
    state = json.loads(fs.cat(f"{root}/state.json"))
    counts = []
    for entry in state["_data_files"]:
        with fs.open(f"{root}/{entry['filename']}", "rb") as file:
            counts.append(pa.ipc.open_stream(file).read_all().num_rows)
    return counts


def _memory_path(url: str) -> str:
    return "/" + url.removeprefix("memory://")


def test_memory_round_trip_both_ways() -> None:
    import datasets

    ours = cp.Dataset.from_dict(ROWS)
    url = _memory_url()
    ours.save_to_disk(url, num_shards=3)
    fs = fsspec.filesystem("memory")
    assert _shards(fs, _memory_path(url)) == [14, 13, 13]  # as datasets shards
    assert cp.load_from_disk(url).to_list() == ours.to_list()
    assert cp.Dataset.load_from_disk(url).to_list() == ours.to_list()
    assert datasets.load_from_disk(url).to_list() == ours.to_list()
    assert not [p for p in fs.find(_memory_path(url).rsplit("/", 1)[0]) if ".tmp" in p]


def test_file_url_round_trip_read_by_datasets(tmp_path: Path) -> None:
    import datasets

    ours = cp.Dataset.from_dict(ROWS)
    ours.save_to_disk(f"file://{tmp_path}/saved", max_shard_size="2KB")
    theirs = datasets.Dataset.from_dict(ROWS)
    theirs.save_to_disk(str(tmp_path / "theirs"), max_shard_size="2KB")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == sorted(
        p.name for p in (tmp_path / "theirs").iterdir()
    )
    for path in (str(tmp_path / "saved"), f"file://{tmp_path}/saved"):
        loaded = datasets.load_from_disk(path)
        assert loaded.to_list() == theirs.to_list()
        assert loaded.features == theirs.features
    assert cp.load_from_disk(f"file://{tmp_path}/saved").to_list() == ours.to_list()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_dataset_dict_to_urls(tmp_path: Path) -> None:
    import datasets

    dd = cp.DatasetDict(
        train=cp.Dataset.from_dict(ROWS), test=cp.Dataset.from_dict(ROWS).select(range(5))
    )
    url = _memory_url()
    dd.save_to_disk(url, num_shards={"train": 2})
    fs = fsspec.filesystem("memory")
    root = _memory_path(url)
    assert json.loads(fs.cat(f"{root}/dataset_dict.json")) == {"splits": ["train", "test"]}
    assert _shards(fs, f"{root}/train") == [20, 20]
    assert _shards(fs, f"{root}/test") == [5]
    for lib in (cp, datasets):
        loaded = lib.load_from_disk(url)
        assert {k: v.to_list() for k, v in loaded.items()} == {
            k: v.to_list() for k, v in dd.items()
        }
    dd.save_to_disk(f"file://{tmp_path}/dict", max_shard_size=1000)
    loaded = datasets.load_from_disk(str(tmp_path / "dict"))
    assert loaded["train"].to_list() == dd["train"].to_list()
    theirs = datasets.DatasetDict(
        train=datasets.Dataset.from_dict(ROWS),
        test=datasets.Dataset.from_dict(ROWS).select(range(5)),
    )
    theirs.save_to_disk(str(tmp_path / "theirs"), max_shard_size=1000)
    for split in ("train", "test"):
        assert sorted(p.name for p in (tmp_path / "dict" / split).iterdir()) == sorted(
            p.name for p in (tmp_path / "theirs" / split).iterdir()
        )


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({}, "default"),
        ({"max_shard_size": 1500}, "bytes"),
        ({"max_shard_size": "3KB"}, "kB"),
        ({"max_shard_size": "1KiB"}, "KiB"),
        ({"max_shard_size": "16Kb"}, "kilobits"),
        ({"max_shard_size": 1}, "a row each"),
        ({"num_shards": 7}, "num_shards"),
    ],
)
def test_shards_as_datasets_counts_them(options: dict[str, Any], name: str, tmp_path: Path) -> None:
    import datasets

    cp.Dataset.from_dict(ROWS).save_to_disk(tmp_path / "ours", **options)
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(tmp_path / "theirs"), **options)
    local = fsspec.filesystem("file")
    assert _shards(local, str(tmp_path / "ours")) == _shards(local, str(tmp_path / "theirs"))


def test_num_proc_is_the_least_number_of_shards(tmp_path: Path) -> None:
    import datasets

    cp.Dataset.from_dict(ROWS).save_to_disk(tmp_path / "ours", num_proc=2)
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(tmp_path / "theirs"), num_proc=2)
    local = fsspec.filesystem("file")
    assert _shards(local, str(tmp_path / "ours")) == _shards(local, str(tmp_path / "theirs"))
    assert _shards(local, str(tmp_path / "ours")) == [20, 20]


def test_shuffled_and_empty_datasets(tmp_path: Path) -> None:
    ds = cp.Dataset.from_dict(ROWS).shuffle(seed=1)
    url = _memory_url()
    ds.save_to_disk(url, max_shard_size=2000)
    assert cp.load_from_disk(url).to_list() == ds.to_list()
    empty = cp.Dataset.from_dict(ROWS).filter(lambda r: False)
    empty.save_to_disk(_memory_url().replace("saved", "empty"))
    empty.save_to_disk(tmp_path / "empty")
    assert len(cp.load_from_disk(tmp_path / "empty")) == 0


def test_overwriting_a_url_leaves_only_the_new_folder() -> None:
    url = _memory_url()
    fs = fsspec.filesystem("memory")
    cp.Dataset.from_dict(ROWS).save_to_disk(url, num_shards=4)
    cp.Dataset.from_dict({"id": [1, 2]}).save_to_disk(url)
    names = sorted(p.rsplit("/", 1)[1] for p in fs.find(_memory_path(url)))
    assert names == ["data-00000-of-00001.arrow", "dataset_info.json", "state.json"]
    assert cp.load_from_disk(url)["id"] == [1, 2]


def test_a_failed_upload_keeps_the_old_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    url = _memory_url()
    cp.Dataset.from_dict({"id": [1, 2]}).save_to_disk(url)
    fs = fsspec.filesystem("memory")
    before = {p: fs.cat(p) for p in fs.find(_memory_path(url))}
    calls = []

    def failing_put(self: Any, lpath: str, rpath: str, **kwargs: Any) -> None:
        calls.append(rpath)
        if len(calls) == 2:
            raise OSError("connection reset")
        MemoryFileSystem.pipe_file(self, rpath, Path(lpath).read_bytes())

    monkeypatch.setattr(MemoryFileSystem, "put_file", failing_put)
    with pytest.raises(OSError, match="connection reset"):
        cp.Dataset.from_dict(ROWS).save_to_disk(url, num_shards=3)
    parent = _memory_path(url).rsplit("/", 1)[0]
    assert {p: fs.cat(p) for p in fs.find(_memory_path(url))} == before
    assert [p for p in fs.find(parent) if ".tmp" in p] == []
    assert all(".tmp" in p and "/data-" in p for p in calls)  # shards went up first


def test_a_failed_write_uploads_nothing() -> None:
    url = _memory_url()

    def boom(row: dict[str, Any]) -> dict[str, Any]:
        if row["id"] == 30:
            raise RuntimeError("bad row")
        return row

    with pytest.raises(Exception, match="bad row"):
        cp.Dataset.from_dict(ROWS).map(boom).save_to_disk(url)
    assert not fsspec.filesystem("memory").exists(_memory_path(url).rsplit("/", 1)[0])
    with pytest.raises(DataFilesNotFoundError):
        cp.load_from_disk(url)


class RecordingFileSystem(MemoryFileSystem):
    """A memory file system that records the options it was built with."""

    protocol = "recording"
    seen: list[dict[str, Any]] = []  # noqa: RUF012 - shared by the test

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).seen.append(dict(kwargs))
        super().__init__()


def test_storage_options_reach_the_file_system() -> None:
    fsspec.register_implementation("recording", RecordingFileSystem, clobber=True)
    RecordingFileSystem.seen.clear()
    options = {"token": "secret-value", "skip_instance_cache": True}
    url = f"recording://opts-{uuid.uuid4().hex[:8]}/saved"
    cp.Dataset.from_dict({"id": [1]}).save_to_disk(url, storage_options=options)
    assert {"token": "secret-value"} in RecordingFileSystem.seen
    assert cp.load_from_disk(url, storage_options=options)["id"] == [1]
    dd = cp.DatasetDict(train=cp.Dataset.from_dict({"id": [2]}))
    dd.save_to_disk(url + "-dict", storage_options=options)
    assert cp.load_from_disk(url + "-dict", storage_options=options)["train"]["id"] == [2]


def test_bad_arguments(tmp_path: Path) -> None:
    ds = cp.Dataset.from_dict({"id": [1]})
    with pytest.raises(ValueError, match="not both"):
        ds.save_to_disk(tmp_path / "a", max_shard_size="1MB", num_shards=2)
    with pytest.raises(ValueError, match="not both"):
        cp.DatasetDict(train=ds).save_to_disk(tmp_path / "a", max_shard_size=1, num_shards=2)
    with pytest.raises(ValueError, match="500MB"):
        ds.save_to_disk(tmp_path / "a", max_shard_size="lots")
    with pytest.raises(ValueError, match="storage_options"):
        ds.save_to_disk(tmp_path / "a", storage_options={"token": "x"})
    with pytest.raises(TypeError, match="not_an_option"):
        ds.save_to_disk(tmp_path / "a", not_an_option=1)  # type: ignore[call-arg]
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("max_shard_size", [5000, "10KB"])
def test_image_shards_as_datasets_counts_them(max_shard_size: int | str, tmp_path: Path) -> None:
    import datasets
    import numpy as np
    import PIL.Image

    paths = []
    for i in range(12):
        pixels = np.random.RandomState(i).randint(0, 255, (20 + i, 20, 3), dtype=np.uint8)
        PIL.Image.fromarray(pixels).save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
    rows = {"image": paths, "i": list(range(12))}
    ours = cp.Dataset.from_dict(rows).cast_column("image", cp.Image())
    theirs = datasets.Dataset.from_dict(rows).cast_column("image", datasets.Image())
    url = _memory_url()
    ours.save_to_disk(url, max_shard_size=max_shard_size)
    theirs.save_to_disk(str(tmp_path / "theirs"), max_shard_size=max_shard_size)
    fs, local = fsspec.filesystem("memory"), fsspec.filesystem("file")
    assert _shards(fs, _memory_path(url)) == _shards(local, str(tmp_path / "theirs"))
    assert len(_shards(fs, _memory_path(url))) > 1
    sizes = [im.size for im in theirs["image"]]
    for path in paths:  # the saved copy stands alone
        Path(path).unlink()
    assert [im.size for im in cp.load_from_disk(url)["image"]] == sizes
