"""Tests for crucible_polars.readers.archives: safe, atomic, extract-once archives."""

from __future__ import annotations

import io
import os
import stat
import struct
import subprocess
import sys
import tarfile
import time
import uuid
import zipfile
import zlib
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible_polars.errors import DataFileError, DataFilesNotFoundError, UnsafeArchiveError
from crucible_polars.readers import archive_members, archives
from crucible_polars.readers.archives import (
    extract_archive,
    extracted_path,
    is_archive,
    list_archive_members,
)

REPO_ROOT = Path(__file__).absolute().parents[1]
FILES = {"train/a.jsonl": b'{"x": 1}\n', "train/b.jsonl": b'{"x": 2}\n', "README.md": b"# hi\n"}


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def _tar_member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w") -> Path:
    if mode == "w:zst":
        buffer = io.BytesIO()
        _tar_into(buffer, members, "w")
        path.write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))
        return path
    with open(path, "wb") as f:
        _tar_into(f, members, mode)
    return path


def _tar_into(f: io.IOBase, members: list[tuple[tarfile.TarInfo, bytes]], mode: str) -> None:
    with tarfile.open(fileobj=f, mode=mode, format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)


def _tree(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(folder.rglob("*")):
        assert not path.is_symlink(), path
        if path.is_file():
            out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def _snapshot(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


# --------------------------------------------------------------------------------------
# Good archives
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("d.zip", None),
        ("d.tar", "w"),
        ("d.tar.gz", "w:gz"),
        ("d.tgz", "w:gz"),
        ("d.tar.bz2", "w:bz2"),
        ("d.tbz2", "w:bz2"),
        ("d.tar.xz", "w:xz"),
        ("d.txz", "w:xz"),
        ("d.tar.zst", "w:zst"),
        ("blob-without-suffix", "w:gz"),
    ],
)
def test_extract_good_archive_once(tmp_path: Path, name: str, mode: str | None) -> None:
    src = tmp_path / name
    if mode is None:
        _zip(src, FILES)
    else:
        members = [_tar_member("train/", kind=tarfile.DIRTYPE)]
        members += [_tar_member("./" + n, d) for n, d in FILES.items()]
        _tar(src, members, mode)
    assert is_archive(src) == (name != "blob-without-suffix")
    assert list_archive_members(src) == list(FILES)

    cache = tmp_path / "cache"
    folder = extract_archive(src, cache)
    assert folder == extracted_path(src, cache)
    assert folder.parent == cache
    assert _tree(folder) == dict(sorted(FILES.items()))
    assert os.listdir(cache) == [folder.name]  # no temporary folder left

    (folder / "marker").write_text("kept")
    assert extract_archive(src, cache) == folder
    assert (folder / "marker").read_text() == "kept"


def test_second_call_does_not_extract_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _zip(tmp_path / "d.zip", FILES)
    folder = extract_archive(src, tmp_path / "cache")

    def boom(*args: object) -> None:
        raise AssertionError("extracted twice")

    monkeypatch.setattr(archives, "_extract_into", boom)
    assert extract_archive(str(src), str(tmp_path / "cache")) == folder


def test_changed_archive_gets_a_new_folder(tmp_path: Path) -> None:
    src = _zip(tmp_path / "d.zip", FILES)
    first = extract_archive(src, tmp_path / "cache")
    _zip(src, {"other.txt": b"new content"})
    os.utime(src, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = extract_archive(src, tmp_path / "cache")
    assert second != first
    assert _tree(second) == {"other.txt": b"new content"}


def test_internal_links_become_copies(tmp_path: Path) -> None:
    src = _tar(
        tmp_path / "links.tar",
        [
            _tar_member("data/x.txt", b"payload"),
            _tar_member("data/sub/y.txt", b"why"),
            _tar_member("sym.txt", kind=tarfile.SYMTYPE, link="data/x.txt"),
            _tar_member("hard.txt", kind=tarfile.LNKTYPE, link="data/x.txt"),
            _tar_member("data/sub/up.txt", kind=tarfile.SYMTYPE, link="../x.txt"),
            _tar_member("alias", kind=tarfile.SYMTYPE, link="data/sub"),
            _tar_member("dangling", kind=tarfile.SYMTYPE, link="nowhere"),
        ],
    )
    assert list_archive_members(src) == [
        "data/x.txt",
        "data/sub/y.txt",
        "sym.txt",
        "hard.txt",
        "data/sub/up.txt",
    ]
    folder = extract_archive(src, tmp_path / "cache")
    tree = _tree(folder)  # asserts that no symlink exists
    assert tree == {
        "alias/up.txt": b"payload",
        "alias/y.txt": b"why",
        "data/sub/up.txt": b"payload",
        "data/sub/y.txt": b"why",
        "data/x.txt": b"payload",
        "hard.txt": b"payload",
        "sym.txt": b"payload",
    }
    assert os.stat(folder / "hard.txt").st_nlink == 1


def test_zip_internal_symlink_is_copied(tmp_path: Path) -> None:
    src = _zip(tmp_path / "l.zip", {"a/x.txt": b"x"}, symlinks={"a/y.txt": "x.txt"})
    assert _tree(extract_archive(src, tmp_path / "cache")) == {"a/x.txt": b"x", "a/y.txt": b"x"}


# --------------------------------------------------------------------------------------
# Unsafe archives
# --------------------------------------------------------------------------------------

OUTSIDE = f"/tmp/crucible-evil-{uuid.uuid4().hex}"


def _unsafe_zips(tmp_path: Path) -> list[tuple[Path, str]]:
    ok = {"ok.txt": b"fine"}
    cases = {
        "dotdot": ({**ok, "../evil": b"x"}, {}, "../evil"),
        "nested-dotdot": ({**ok, "a/../../evil": b"x"}, {}, "a/../../evil"),
        "absolute": ({**ok, OUTSIDE: b"x"}, {}, OUTSIDE),
        "backslash": ({**ok, "..\\evil": b"x"}, {}, "..\\evil"),
        "drive": ({**ok, "C:/evil": b"x"}, {}, "C:/evil"),
        "symlink-abs": (ok, {"passwd": "/etc/passwd"}, "passwd"),
        "symlink-up": (ok, {"a/link": "../../x"}, "a/link"),
    }
    return [
        (_zip(tmp_path / f"{label}.zip", files, links), member)
        for label, (files, links, member) in cases.items()
    ]


def _unsafe_tars(tmp_path: Path) -> list[tuple[Path, str]]:
    ok = _tar_member("ok.txt", b"fine")
    cases = {
        "dotdot": (_tar_member("../evil", b"x"), "../evil"),
        "absolute": (_tar_member(OUTSIDE, b"x"), OUTSIDE),
        "symlink-abs": (_tar_member("passwd", kind=tarfile.SYMTYPE, link="/etc/passwd"), "passwd"),
        "symlink-up": (_tar_member("a/l", kind=tarfile.SYMTYPE, link="../../x"), "a/l"),
        "symlink-dot": (_tar_member("l", kind=tarfile.SYMTYPE, link=".."), "l"),
        "hardlink-up": (_tar_member("h", kind=tarfile.LNKTYPE, link="../outside"), "h"),
        "hardlink-abs": (_tar_member("h", kind=tarfile.LNKTYPE, link="/etc/passwd"), "h"),
        "chardev": (_tar_member("dev", kind=tarfile.CHRTYPE), "dev"),
        "fifo": (_tar_member("fifo", kind=tarfile.FIFOTYPE), "fifo"),
    }
    out = []
    for label, (member, name) in cases.items():
        # The bad member comes after a good one, so extraction has already begun.
        out.append((_tar(tmp_path / f"{label}.tar.gz", [ok, member], "w:gz"), name))
    # The classic two-step: a link to the parent, then a file through it.
    two_step = [
        _tar_member("up", kind=tarfile.SYMTYPE, link=".."),
        _tar_member("up/evil", b"x"),
    ]
    out.append((_tar(tmp_path / "two-step.tar", two_step), "up"))
    return out


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_unsafe_members_refused_and_nothing_written(tmp_path: Path, kind: str) -> None:
    made = tmp_path / "archives"
    made.mkdir()
    cases = _unsafe_zips(made) if kind == "zip" else _unsafe_tars(made)
    before = _snapshot(tmp_path)
    for archive, member in cases:
        cache = tmp_path / "cache"
        with pytest.raises(UnsafeArchiveError) as info:
            extract_archive(archive, cache)
        assert info.value.path == str(archive), archive
        assert info.value.member == member, archive
        assert str(archive) in str(info.value)
        assert os.listdir(cache) == [], archive  # no target, no temporary folder
        cache.rmdir()
        assert _snapshot(tmp_path) == before
        with pytest.raises(UnsafeArchiveError):
            list_archive_members(archive)
    assert not os.path.exists(OUTSIDE)
    assert not (tmp_path.parent / "evil").exists()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "..", ".", "", "b\\..", "C:", "/", "\\"]), max_size=6))
def test_member_names_stay_inside_or_are_refused(parts: list[str]) -> None:
    name = "/".join(parts)
    root = os.path.abspath("/virtual/root")
    try:
        safe = archive_members._safe_parts("x.zip", name)
    except UnsafeArchiveError:
        return
    target = os.path.normpath(os.path.join(root, *safe))
    assert target == root or target.startswith(root + os.sep)
    assert all(p not in ("", ".", "..") and "/" not in p and "\\" not in p for p in safe)


def test_zip_bomb_refused_by_declared_size(tmp_path: Path) -> None:
    src = tmp_path / "bomb.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("small.txt", b"ok")
        zf.writestr("zeros.bin", bytes(50 * 2**20))
    assert src.stat().st_size < 200_000
    with pytest.raises(UnsafeArchiveError, match="max_total_bytes") as info:
        extract_archive(src, tmp_path / "cache", max_total_bytes=2**20)
    assert info.value.member == "zeros.bin"
    assert os.listdir(tmp_path / "cache") == []


def _lying_zip(path: Path, real_size: int, declared: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("liar.bin", bytes(real_size))
    blob = bytearray(path.read_bytes())
    local = blob.index(b"PK\x03\x04")
    struct.pack_into("<I", blob, local + 22, declared)
    central = blob.index(b"PK\x01\x02")
    struct.pack_into("<I", blob, central + 24, declared)
    path.write_bytes(bytes(blob))
    assert zipfile.ZipFile(path).getinfo("liar.bin").file_size == declared
    return path


def test_lying_zip_header_cannot_bypass_the_limit(tmp_path: Path) -> None:
    src = _lying_zip(tmp_path / "liar.zip", real_size=8 * 2**20, declared=100)
    with pytest.raises(UnsafeArchiveError, match="max_total_bytes") as info:
        extract_archive(src, tmp_path / "cache", max_total_bytes=2**20)
    assert info.value.member == "liar.bin"
    assert os.listdir(tmp_path / "cache") == []
    # Under a generous limit the lie itself is refused.
    with pytest.raises(UnsafeArchiveError, match="declares 100 bytes"):
        extract_archive(src, tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


def test_tar_bomb_and_ratio_and_member_count(tmp_path: Path) -> None:
    bomb = _tar(tmp_path / "bomb.tar.gz", [_tar_member("zeros", bytes(20 * 2**20))], "w:gz")
    with pytest.raises(UnsafeArchiveError, match="max_total_bytes"):
        extract_archive(bomb, tmp_path / "cache", max_total_bytes=2**20)
    with pytest.raises(UnsafeArchiveError, match="max_ratio"):
        extract_archive(bomb, tmp_path / "cache", max_ratio=10)
    assert os.listdir(tmp_path / "cache") == []
    # Within both limits it extracts.
    assert (extract_archive(bomb, tmp_path / "ok", max_ratio=None) / "zeros").stat().st_size == (
        20 * 2**20
    )

    many = {f"f{i}.txt": b"x" for i in range(30)}
    with pytest.raises(UnsafeArchiveError, match="max_members") as info:
        extract_archive(_zip(tmp_path / "many.zip", many), tmp_path / "cache", max_members=10)
    assert info.value.member == "f10.txt"
    many_tar = _tar(tmp_path / "many.tar", [_tar_member(n, d) for n, d in many.items()])
    with pytest.raises(UnsafeArchiveError, match="max_members"):
        extract_archive(many_tar, tmp_path / "cache", max_members=10)
    with pytest.raises(UnsafeArchiveError, match="max_members"):
        list_archive_members(many_tar, max_members=10)
    assert os.listdir(tmp_path / "cache") == []


def test_link_copies_count_against_the_limit(tmp_path: Path) -> None:
    members = [_tar_member("big", bytes(600_000))]
    members += [_tar_member(f"l{i}", kind=tarfile.LNKTYPE, link="big") for i in range(5)]
    src = _tar(tmp_path / "links.tar.xz", members, "w:xz")
    with pytest.raises(UnsafeArchiveError, match="max_total_bytes"):
        extract_archive(src, tmp_path / "cache", max_total_bytes=2_000_000)
    assert os.listdir(tmp_path / "cache") == []


# --------------------------------------------------------------------------------------
# Corrupt archives, crashes, races
# --------------------------------------------------------------------------------------


def test_corrupt_archives_raise_data_file_error(tmp_path: Path) -> None:
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(DataFileError, match=r"bad\.zip"):
        extract_archive(bad_zip, tmp_path / "cache")

    good = _tar(tmp_path / "t.tar.gz", [_tar_member("a", os.urandom(200_000))], "w:gz")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(DataFileError) as info:
        extract_archive(truncated, tmp_path / "cache")
    assert info.value.path == str(truncated)

    crc = tmp_path / "crc.zip"
    _zip(crc, {"a.txt": b"hello world" * 100})
    blob = bytearray(crc.read_bytes())
    struct.pack_into("<I", blob, blob.index(b"PK\x01\x02") + 16, zlib.crc32(b"other"))
    crc.write_bytes(bytes(blob))
    with pytest.raises(DataFileError, match="corrupt"):
        extract_archive(crc, tmp_path / "cache")

    not_archive = tmp_path / "plain"
    not_archive.write_bytes(b"just text\n")
    with pytest.raises(DataFileError, match="not a zip or tar"):
        extract_archive(not_archive, tmp_path / "cache")
    with pytest.raises(DataFilesNotFoundError):
        extract_archive(tmp_path / "missing.zip", tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


def test_crash_midway_leaves_no_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _zip(tmp_path / "d.zip", FILES)
    real_write = archives._write_file
    calls = []

    def crash_on_second(*args: object, **kwargs: object) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(archives, "_write_file", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        extract_archive(src, tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []
    monkeypatch.setattr(archives, "_write_file", real_write)
    # A stale temporary folder from a killed process does not get in the way.
    (tmp_path / "cache" / f".{extracted_path(src, tmp_path / 'cache').name}.tmp-dead").mkdir()
    assert _tree(extract_archive(src, tmp_path / "cache")) == dict(sorted(FILES.items()))


_CHILD = """
import os, sys, time
from pathlib import Path
from crucible_polars.readers import archives

real_write, real_extract = archives._write_file, archives._extract_into
extracted = []
def slow_write(*args, **kwargs):
    time.sleep(0.004)
    return real_write(*args, **kwargs)
def counting_extract(*args, **kwargs):
    extracted.append(True)
    return real_extract(*args, **kwargs)
archives._write_file, archives._extract_into = slow_write, counting_extract

# Barrier: wait until both processes are ready, so that their extractions overlap.
barrier = Path(sys.argv[3])
(barrier / sys.argv[4]).touch()
while len(os.listdir(barrier)) < 2:
    time.sleep(0.005)
print(archives.extract_archive(sys.argv[1], sys.argv[2]), bool(extracted))
"""


def test_two_processes_extract_concurrently(tmp_path: Path) -> None:
    files = {f"part/{i:03d}.txt": os.urandom(2000) for i in range(150)}
    src = _zip(tmp_path / "shared.zip", files)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(src), str(cache), str(barrier), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    outputs = [out.split() for out, _ in results]
    target = extracted_path(src, cache)
    assert [path for path, _ in outputs] == [str(target), str(target)]
    assert [flag for _, flag in outputs] == ["True", "True"]  # both really extracted
    assert os.listdir(cache) == [target.name]  # one copy, no temporary folder left
    assert _tree(target) == dict(sorted(files.items()))
