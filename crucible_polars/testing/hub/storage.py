"""The storage model of the test Hub: blobs, files, commits and repositories.

Blob ids, LFS pointers, tree ids and revisions follow git and the Hub, so that clients that
check them (``huggingface_hub``'s cache, ``HfFileSystem``) see what the real Hub gives.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

#: File extensions stored as LFS blobs by default (the Hub's default ``.gitattributes``).
DEFAULT_LFS_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".7z",
        ".arrow",
        ".avro",
        ".bin",
        ".bmp",
        ".bz2",
        ".ckpt",
        ".db",
        ".flac",
        ".ftz",
        ".gif",
        ".gz",
        ".h5",
        ".jpeg",
        ".jpg",
        ".joblib",
        ".lance",
        ".lz4",
        ".mds",
        ".mp3",
        ".mp4",
        ".msgpack",
        ".npy",
        ".npz",
        ".ogg",
        ".onnx",
        ".parquet",
        ".pb",
        ".pickle",
        ".pkl",
        ".png",
        ".pt",
        ".pth",
        ".rar",
        ".safetensors",
        ".tar",
        ".tfrecord",
        ".tgz",
        ".tif",
        ".tiff",
        ".wasm",
        ".wav",
        ".webm",
        ".webp",
        ".xz",
        ".zip",
        ".zst",
    }
)
#: Files at least this large are LFS blobs whatever their extension (the Hub refuses larger
#: regular git blobs).
DEFAULT_LFS_THRESHOLD = 10 * 1024 * 1024

_CHUNK = 64 * 1024
_SHA40 = re.compile(r"[0-9a-f]{40}")

RepoType = Literal["dataset", "model", "space"]
Gated = bool | Literal["auto", "manual"]
FilesSource = Mapping[str, bytes] | str | os.PathLike[str]


class Blob:
    """Immutable file content, in memory or (``in_memory=False``) read from disk on demand."""

    __slots__ = ("_data", "_path", "git_sha1", "sha256", "size")

    def __init__(
        self, size: int, sha256: str, git_sha1: str, data: bytes | None, path: Path | None
    ) -> None:
        self.size = size
        self.sha256 = sha256
        self.git_sha1 = git_sha1
        self._data = data
        self._path = path

    @classmethod
    def from_bytes(cls, data: bytes) -> Blob:
        data = bytes(data)
        git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        return cls(len(data), hashlib.sha256(data).hexdigest(), git, data, None)

    @classmethod
    def from_file(cls, path: Path, in_memory: bool) -> Blob:
        if in_memory:
            return cls.from_bytes(path.read_bytes())
        size = path.stat().st_size
        sha256 = hashlib.sha256()
        git = hashlib.sha1(b"blob %d\0" % size)
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha256.update(chunk)
                git.update(chunk)
        return cls(size, sha256.hexdigest(), git.hexdigest(), None, path)

    def read(self) -> bytes:
        if self._data is not None:
            return self._data
        assert self._path is not None
        return self._path.read_bytes()

    def iter_range(self, start: int, stop: int) -> Iterator[bytes]:
        """Yield the bytes ``[start, stop)`` in chunks."""
        if self._data is not None:
            for offset in range(start, stop, _CHUNK):
                yield self._data[offset : min(offset + _CHUNK, stop)]
            return
        assert self._path is not None
        with self._path.open("rb") as handle:
            handle.seek(start)
            remaining = stop - start
            while remaining > 0:
                chunk = handle.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


@dataclass(frozen=True)
class FileEntry:
    blob: Blob
    lfs: bool

    @property
    def pointer(self) -> bytes:
        return (
            "version https://git-lfs.github.com/spec/v1\n"
            f"oid sha256:{self.blob.sha256}\nsize {self.blob.size}\n"
        ).encode()

    @property
    def oid(self) -> str:
        """Git blob id: of the content, or of the LFS pointer file for LFS entries."""
        if not self.lfs:
            return self.blob.git_sha1
        pointer = self.pointer
        return hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()

    @property
    def etag(self) -> str:
        return self.blob.sha256 if self.lfs else self.blob.git_sha1


@dataclass
class Commit:
    sha: str
    files: dict[str, FileEntry]
    parent: str | None
    message: str
    date: datetime
    dirs: dict[str, str] = field(default_factory=dict)  # directory path ("" = root) -> tree oid
    card: dict[str, Any] | None = None
    description: str | None = None
    card_parsed: bool = False

    def __post_init__(self) -> None:
        # Git-like tree ids: a directory's id hashes its children's names and ids.
        files_in: dict[str, dict[str, str]] = {"": {}}  # directory -> {file name: blob oid}
        dirs_in: dict[str, set[str]] = {"": set()}  # directory -> names of sub-directories
        for path, entry in self.files.items():
            parts = path.split("/")
            for depth in range(1, len(parts)):
                parent, name = "/".join(parts[: depth - 1]), parts[depth - 1]
                directory = "/".join(parts[:depth])
                dirs_in[parent].add(name)
                dirs_in.setdefault(directory, set())
                files_in.setdefault(directory, {})
            files_in["/".join(parts[:-1])][parts[-1]] = entry.oid
        for directory in sorted(dirs_in, key=lambda d: d.count("/") + bool(d), reverse=True):
            listing = {name: ("100644", oid) for name, oid in files_in[directory].items()}
            for name in dirs_in[directory]:
                listing[name] = ("40000", self.dirs[f"{directory}/{name}" if directory else name])
            digest = hashlib.sha1(b"tree\0")
            for name in sorted(listing):
                mode, oid = listing[name]
                digest.update(f"{mode} {name}\0{oid}".encode())
            self.dirs[directory] = digest.hexdigest()

    def is_dir(self, path: str) -> bool:
        return path in self.dirs


@dataclass
class Repo:
    repo_type: RepoType
    repo_id: str
    gated: Gated = False
    private: bool = False
    tokens: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    card_data: dict[str, Any] | None = None
    downloads: int = 0
    likes: int = 0
    refs: dict[str, str] = field(default_factory=dict)  # full ref name -> commit sha
    commits: dict[str, Commit] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    object_id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])

    @property
    def author(self) -> str | None:
        return self.repo_id.split("/")[0] if "/" in self.repo_id else None

    def resolve(self, revision: str) -> Commit | None:
        """Commit for a branch/tag name, a full ref (``refs/convert/parquet``) or a sha."""
        candidates = [revision] if revision.startswith("refs/") else []
        candidates += [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        for ref in candidates:
            if ref in self.refs:
                return self.commits[self.refs[ref]]
        if _SHA40.fullmatch(revision):
            return self.commits.get(revision)
        return None

    def main_commit(self) -> Commit | None:
        sha = self.refs.get("refs/heads/main")
        return self.commits[sha] if sha else None


def full_ref(revision: str) -> str:
    return revision if revision.startswith("refs/") else f"refs/heads/{revision}"
