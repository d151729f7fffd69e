"""fsspec URLs in both modes: ``memory://``, chained archives, ``storage_options`` (issue 13)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import fsspec
import polars as pl
import pytest
from fsspec.implementations.memory import MemoryFileSystem

import crucible_polars as cp

JSONL = b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'


class SecretMemoryFileSystem(MemoryFileSystem):
    """An fsspec file system that refuses to open files without ``secret="open sesame"``."""

    protocol = ("secretmem",)

    def __init__(self, secret: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.secret = secret

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(MemoryFileSystem._strip_protocol(path.removeprefix("secretmem://")))

    def _check(self) -> None:
        if self.secret != "open sesame":
            raise PermissionError("wrong secret")

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        self._check()
        return super()._open(path, mode, **kwargs)

    def cat_file(self, path: str, start: Any = None, end: Any = None, **kwargs: Any) -> Any:
        self._check()
        return super().cat_file(path, start, end, **kwargs)


fsspec.register_implementation("secretmem", SecretMemoryFileSystem, clobber=True)


def _rows(load: Any, fmt: str, url: str, streaming: bool, **kwargs: Any) -> list[dict[str, Any]]:
    ds = load(fmt, data_files=url, split="train", streaming=streaming, **kwargs)
    return list(ds) if streaming else ds.to_list()


@pytest.fixture
def memory_files(tmp_path: Path) -> dict[str, str]:
    fs = fsspec.filesystem("memory")
    root = f"/t-{tmp_path.name}"
    fs.pipe(f"{root}/train.jsonl", JSONL)
    fs.pipe(f"{root}/x.csv", b"a,b\n1,x\n")
    buf = io.BytesIO()
    pl.DataFrame({"a": [1, 2]}).write_parquet(buf)
    fs.pipe(f"{root}/p.parquet", buf.getvalue())
    fs.pipe(f"{root}/t.txt", b"x\ny\n")
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("inner/train.jsonl", JSONL)
    with tarfile.open(tmp_path / "a.tar", "w") as tf:
        info = tarfile.TarInfo("train.jsonl")
        info.size = len(JSONL)
        tf.addfile(info, io.BytesIO(JSONL))
    fs.pipe(f"{root}/m.zip", (tmp_path / "a.zip").read_bytes())
    return {
        "json": f"memory://{root}/train.jsonl",
        "csv": f"memory://{root}/x.csv",
        "parquet": f"memory://{root}/p.parquet",
        "text": f"memory://{root}/t.txt",
        "zip": f"zip://**/*.jsonl::{tmp_path / 'a.zip'}",
        "zip-member": f"zip://inner/train.jsonl::{tmp_path / 'a.zip'}",
        "tar": f"tar://*::{tmp_path / 'a.tar'}",
        "zip-in-memory": f"zip://**/*.jsonl::memory://{root}/m.zip",
    }


CASES = [
    ("json", "json"),
    ("csv", "csv"),
    ("parquet", "parquet"),
    ("text", "text"),
    ("json", "zip"),
    ("json", "zip-member"),
    ("json", "tar"),
    ("json", "zip-in-memory"),
]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(("fmt", "key"), CASES)
def test_fsspec_urls_match_datasets(
    fmt: str, key: str, streaming: bool, memory_files: dict[str, str]
) -> None:
    import datasets

    url = memory_files[key]
    assert _rows(cp.load_dataset, fmt, url, streaming) == _rows(
        datasets.load_dataset, fmt, url, streaming
    )


@pytest.mark.parametrize("streaming", [False, True])
def test_storage_options_reach_the_file_system(streaming: bool, tmp_path: Path) -> None:
    fs = fsspec.filesystem("secretmem", secret="open sesame")
    fs.pipe(f"/s-{tmp_path.name}/train.jsonl", JSONL)
    url = f"secretmem://s-{tmp_path.name}/train.jsonl"
    rows = _rows(cp.load_dataset, "json", url, streaming, storage_options={"secret": "open sesame"})
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    fs.pipe(f"/s-{tmp_path.name}/other.jsonl", JSONL)
    other = f"secretmem://s-{tmp_path.name}/other.jsonl"
    with pytest.raises(PermissionError):
        _rows(cp.load_dataset, "json", other, streaming, storage_options={"secret": "nope"})


def test_a_changed_memory_file_is_read_again(tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    path = f"/c-{tmp_path.name}/train.jsonl"
    fs.pipe(path, b'{"a": 1}\n')
    assert cp.load_dataset("json", data_files=f"memory://{path}", split="train")["a"] == [1]
    fs.pipe(path, b'{"a": 2}\n{"a": 3}\n')
    assert cp.load_dataset("json", data_files=f"memory://{path}", split="train")["a"] == [2, 3]
