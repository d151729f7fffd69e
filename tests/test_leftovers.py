"""What ``kill -9`` leaves behind is removed by the next process (``sources/leftovers.py``):
an extraction's ``.tmp-`` folder (``readers/archives.py``) and a download's ``.incomplete``
file. Each test kills a real process with ``SIGKILL`` while it works, then checks that a
later extraction or load removes what it left, and never what a live process is using.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from filelock import FileLock

import crucible_polars as cp
from crucible_polars.readers.archives import extract_archive, extracted_path
from crucible_polars.sources.leftovers import sweep_incomplete_downloads, sweep_temporaries
from crucible_polars.testing.hub_server import HubServer

ROOT = Path(__file__).resolve().parents[1]

# Extracts an archive, but stops for good inside the extraction (after its temporary folder
# and lock exist and a member is written) and says so: the parent then kills it.
_EXTRACTOR = """
import sys, time
from crucible_polars.readers import archives
real = archives._write_file
def slow(*args, **kwargs):
    written = real(*args, **kwargs)
    print("extracting", flush=True)
    time.sleep(3600)
    return written
archives._write_file = slow
archives.extract_archive(sys.argv[1], sys.argv[2])
"""

_LOADER = """
import sys
import crucible_polars as cp
cp.load_dataset(sys.argv[1], split="train", cache_dir=sys.argv[2])
"""


@contextmanager
def _running(code: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _zip(path: Path, members: int = 3) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(members):
            zf.writestr(f"train/{i}.jsonl", f'{{"x": {i}}}\n')
    return path


def _temporaries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if ".tmp-" in p.name)


def test_a_killed_extraction_is_cleaned_by_the_next_one(tmp_path: Path) -> None:
    archive, cache = _zip(tmp_path / "a.zip"), tmp_path / "extracted"
    with _running(_EXTRACTOR, str(archive), str(cache)) as proc:
        assert proc.stdout is not None and proc.stdout.readline() == "extracting\n"
        left = _temporaries(cache)
        assert len(left) == 2  # the folder and its lock, held
        assert sweep_temporaries(cache) == []  # its owner is alive: kept
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _temporaries(cache) == left  # a kill runs no cleanup
    other = extract_archive(_zip(tmp_path / "b.zip", members=2), cache)
    assert _temporaries(cache) == []
    assert sorted(p.name for p in (other / "train").iterdir()) == ["0.jsonl", "1.jsonl"]
    folder = extract_archive(archive, cache)  # the killed one, extracted whole this time
    assert folder == extracted_path(archive, cache)
    assert len(list((folder / "train").iterdir())) == 3


def test_an_old_temporary_folder_without_a_lock_is_removed(tmp_path: Path) -> None:
    cache = tmp_path / "extracted"
    young, old = cache / ".k1.tmp-young", cache / ".k2.tmp-old"
    for folder in (young, old):
        (folder / "train").mkdir(parents=True)
    os.utime(old, (time.time() - 2 * 24 * 3600,) * 2)
    assert sweep_temporaries(cache) == [".k2.tmp-old"]
    assert _temporaries(cache) == [".k1.tmp-young"]


def _parquet_repo(hub: HubServer, repo: str) -> pl.DataFrame:
    frame = pl.DataFrame({"id": range(5_000)})
    if repo not in hub.repo_ids():
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        hub.add_repo(repo, {"data/train.parquet": buffer.getvalue()})
    return frame


def test_a_killed_download_is_cleaned_by_the_next_load(hub: HubServer, tmp_path: Path) -> None:
    repo, cache = "leftovers/killed-download", tmp_path / "hf-cache"
    frame = _parquet_repo(hub, repo)
    hub.lfs_redirect = True
    hub.fail_next(f"/cdn-lfs/datasets/{repo}/", stall=30.0)  # the body never comes
    blobs = cache / f"datasets--{repo.replace('/', '--')}" / "blobs"

    def incomplete() -> list[Path]:
        return list(blobs.glob("*.incomplete")) if blobs.is_dir() else []

    with _running(_LOADER, repo, str(cache)) as proc:
        _wait_for(lambda: bool(incomplete()), "the download to start")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    left = incomplete()
    assert len(left) == 1  # a kill runs no cleanup
    hub.clear_faults()
    ds = cp.load_dataset(repo, split="train", cache_dir=str(cache))
    assert ds.to_polars().equals(frame)
    assert incomplete() == []


def test_a_running_download_keeps_its_incomplete_file(tmp_path: Path) -> None:
    cache = tmp_path / "hf-cache"
    folder = cache / "datasets--o--r"
    (folder / "blobs").mkdir(parents=True)
    running = folder / "blobs" / "aaa.12345678.incomplete"
    stale = folder / "blobs" / "bbb.87654321.incomplete"
    running.write_bytes(b"part"), stale.write_bytes(b"part")
    lock = cache / ".locks" / "datasets--o--r" / "aaa.lock"
    lock.parent.mkdir(parents=True)
    with FileLock(str(lock)):  # what huggingface_hub holds while it downloads
        assert sweep_incomplete_downloads(str(cache), str(folder)) == [stale.name]
    assert running.exists() and not stale.exists()
