"""cp.cache against a real huggingface_hub cache, filled from the local test Hub."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from huggingface_hub import constants, hf_hub_download, scan_cache_dir, snapshot_download

from crucible_polars import cache
from crucible_polars.testing.hub_server import HubServer

DAY = 86400


def _repo_id(name: str) -> str:
    return f"cache-test/{name}-{uuid.uuid4().hex[:8]}"


def _files(tag: str, size: int = 2000) -> dict[str, bytes]:
    """A README (a regular git file) and a parquet-named file (an LFS file on the Hub)."""
    return {
        "README.md": f"# {tag}\n".encode(),
        "data/train-00000-of-00001.parquet": (tag.encode() * size)[:size],
    }


def _download(repo_id: str, cache_dir: Path, revision: str | None = None) -> Path:
    return Path(
        snapshot_download(repo_id, repo_type="dataset", cache_dir=cache_dir, revision=revision)
    )


def _age(snapshot: Path, seconds: float, only: tuple[str, ...] | None = None) -> None:
    """Set the access and modification times of a snapshot's blobs ``seconds`` ago."""
    moment = time.time() - seconds
    for link in snapshot.rglob("*"):
        if link.is_file() and (only is None or link.name in only):
            os.utime(link.resolve(), (moment, moment))


def _cached(hub: HubServer, name: str, cache_dir: Path, age_days: float = 0) -> tuple[str, Path]:
    repo_id = _repo_id(name)
    hub.add_repo(repo_id, _files(name))
    snapshot = _download(repo_id, cache_dir)
    _age(snapshot, age_days * DAY)
    return repo_id, snapshot


def _repo_dir(cache_dir: Path, repo_id: str) -> Path:
    return cache_dir / ("datasets--" + repo_id.replace("/", "--"))


def test_parse_size_and_duration() -> None:
    assert cache.parse_size("10GB") == 10_000_000_000
    assert cache.parse_size("1.5 MiB") == 1_572_864
    assert cache.parse_duration("1d12h") == timedelta(days=1.5)
    assert cache.parse_duration(timedelta(hours=2)) == timedelta(hours=2)
    for bad in ("10 parsecs", "-5GB", "GB", True):
        with pytest.raises(ValueError, match="Invalid size"):
            cache.parse_size(bad)  # type: ignore[arg-type]
    for bad_duration in ("soon", "7 days later", -1):
        with pytest.raises(ValueError, match="Invalid duration"):
            cache.parse_duration(bad_duration)


def test_info_summarizes_datasets_only(hub: HubServer, tmp_path: Path) -> None:
    assert cache.info(cache_dir=tmp_path / "missing").num_datasets == 0
    repo_a, _ = _cached(hub, "a", tmp_path, age_days=3)
    repo_b, _ = _cached(hub, "b", tmp_path)
    model_id = _repo_id("model")
    hub.add_repo(model_id, {"config.json": b"{}"}, repo_type="model")
    hf_hub_download(model_id, "config.json", cache_dir=tmp_path)

    summary = cache.info(cache_dir=tmp_path)
    assert summary.num_datasets == 2 and summary.num_files == 4 and summary.num_revisions == 2
    size = sum(len(v) for v in _files("a").values()) + sum(len(v) for v in _files("b").values())
    assert summary.size_on_disk == size
    frame = summary.datasets
    assert frame["repo_id"].to_list() == sorted([repo_a, repo_b])
    assert frame["refs"].to_list() == [["main"], ["main"]]
    ages = dict(zip(frame["repo_id"], frame["last_accessed"], strict=True))
    assert ages[repo_a] < ages[repo_b]
    assert summary.revisions.height == 2
    text = str(summary)
    assert repo_a in text and repo_b in text and model_id not in text
    assert "2 datasets, 4 files" in text


def test_prune_removes_least_recently_used_first(hub: HubServer, tmp_path: Path) -> None:
    old, _ = _cached(hub, "old", tmp_path, age_days=10)
    middle, _ = _cached(hub, "middle", tmp_path, age_days=5)
    new, _ = _cached(hub, "new", tmp_path, age_days=0)
    size = {name: sum(len(v) for v in _files(name).values()) for name in ("old", "middle", "new")}
    keep = size["middle"] + size["new"]

    dry = cache.prune(max_size=keep, cache_dir=tmp_path, dry_run=True)
    assert [r.repo_id for r in dry.removed] == [old] and dry.dry_run
    assert _repo_dir(tmp_path, old).exists(), "a dry run deletes nothing"

    result = cache.prune(max_size=keep, cache_dir=tmp_path)
    assert [(r.repo_id, r.reason) for r in result.removed] == [(old, "max_size")]
    assert result.freed == size["old"] and result.size_after == keep
    assert not _repo_dir(tmp_path, old).exists()

    result = cache.prune(older_than="2d", cache_dir=tmp_path)
    assert [(r.repo_id, r.reason) for r in result.removed] == [(middle, "older_than")]
    assert [r.repo_id for r in cache.prune(older_than="2d", cache_dir=tmp_path).removed] == []
    assert cache.info(cache_dir=tmp_path).datasets["repo_id"].to_list() == [new]
    assert not scan_cache_dir(tmp_path).warnings
    with pytest.raises(ValueError, match="max_size"):
        cache.prune(cache_dir=tmp_path)


def test_prune_keeps_blobs_shared_with_a_kept_revision(hub: HubServer, tmp_path: Path) -> None:
    repo_id = _repo_id("revisions")
    first = hub.add_repo(repo_id, {**_files("v1"), "README.md": b"# same\n"})
    old_snapshot = _download(repo_id, tmp_path, revision=first)
    hub.add_revision(repo_id, "main", {**_files("v2"), "README.md": b"# same\n"})
    new_snapshot = _download(repo_id, tmp_path)
    _age(old_snapshot, 9 * DAY)  # README's blob is shared: both revisions use it

    result = cache.prune(older_than="1d", cache_dir=tmp_path)
    assert [r.revision for r in result.removed] == [first]
    assert result.freed == len(_files("v1")["data/train-00000-of-00001.parquet"])
    assert not old_snapshot.exists()
    assert (new_snapshot / "README.md").read_bytes() == b"# same\n"
    assert (new_snapshot / "data/train-00000-of-00001.parquet").read_bytes().startswith(b"v2")
    assert (_repo_dir(tmp_path, repo_id) / "refs" / "main").is_file()
    assert not scan_cache_dir(tmp_path).warnings


def test_interrupted_deletion_never_leaves_a_half_deleted_snapshot(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo_id, snapshot = _cached(hub, "interrupted", tmp_path)
    from huggingface_hub import DeleteCacheStrategy

    def crash(self: DeleteCacheStrategy) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(DeleteCacheStrategy, "execute", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.clear(repo_id, cache_dir=tmp_path)
    # Interrupted before huggingface_hub deleted anything: no ref names the snapshot any
    # more, the snapshot is whole (every file still reads), and huggingface_hub sees a
    # consistent cache in which the revision is detached.
    assert not list((_repo_dir(tmp_path, repo_id) / "refs").rglob("*main*"))
    for name, content in _files("interrupted").items():
        assert (snapshot / name).read_bytes() == content
    scan = scan_cache_dir(tmp_path)
    assert not scan.warnings
    assert [rev.refs for r in scan.repos for rev in r.revisions] == [frozenset()]
    monkeypatch.undo()
    cache.clear(cache_dir=tmp_path)  # finishes the job
    assert not _repo_dir(tmp_path, repo_id).exists()
    assert not scan_cache_dir(tmp_path).warnings
    assert not [p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_clear_one_repo_one_revision_or_everything(hub: HubServer, tmp_path: Path) -> None:
    repo_a, _ = _cached(hub, "clear-a", tmp_path)
    repo_b, _ = _cached(hub, "clear-b", tmp_path)
    model_id = _repo_id("clear-model")
    hub.add_repo(model_id, {"config.json": b"{}"}, repo_type="model")
    hf_hub_download(model_id, "config.json", cache_dir=tmp_path)

    assert not cache.clear("nobody/nothing", cache_dir=tmp_path).removed
    result = cache.clear(repo_a, cache_dir=tmp_path)
    assert result.repos == [repo_a] and not _repo_dir(tmp_path, repo_a).exists()

    sha = hub.revision_sha(repo_b)
    assert not cache.clear(repo_b, revision="0" * 40, cache_dir=tmp_path).removed
    assert [
        r.revision
        for r in cache.clear(repo_b, revision="main", cache_dir=tmp_path, dry_run=True).removed
    ] == [sha]

    result = cache.clear(cache_dir=tmp_path)
    assert result.repos == [repo_b] and "Removed 1 revision(s) of 1 dataset(s)" in str(result)
    assert cache.info(cache_dir=tmp_path).num_datasets == 0
    assert (tmp_path / ("models--" + model_id.replace("/", "--"))).is_dir(), "models are kept"


def _corrupt(path: Path) -> None:
    blob = path.resolve()
    os.chmod(blob, 0o644)
    with blob.open("r+b") as handle:
        handle.write(b"XX")


def test_verify_reports_removes_and_redownloads(hub: HubServer, tmp_path: Path) -> None:
    repo_id, snapshot = _cached(hub, "verify", tmp_path)
    report = cache.verify(repo_id, cache_dir=tmp_path)
    assert report.ok and len(report.checks) == 2
    by_path = {c.path: c for c in report.checks}
    assert by_path["README.md"].algorithm == "git-sha1"
    assert by_path["data/train-00000-of-00001.parquet"].algorithm == "sha256"
    assert {c.expected_from for c in report.checks} == {"hub"}

    data = snapshot / "data/train-00000-of-00001.parquet"
    _corrupt(data)
    report = cache.verify(cache_dir=tmp_path)
    assert [c.path for c in report.corrupt] == ["data/train-00000-of-00001.parquet"]
    assert "CORRUPT" in str(report) and data.exists(), "reporting removes nothing"

    report = cache.verify(repo_id, cache_dir=tmp_path, remove_corrupt=True)
    assert [c.removed for c in report.corrupt] == [True]
    assert not data.exists() and (snapshot / "README.md").exists()
    assert not scan_cache_dir(tmp_path).warnings

    hub.reset_counters()
    path = hf_hub_download(
        repo_id, "data/train-00000-of-00001.parquet", repo_type="dataset", cache_dir=tmp_path
    )
    assert hub.count("GET", "/resolve/") == 1, "the removed file is downloaded again"
    assert Path(path).read_bytes() == _files("verify")["data/train-00000-of-00001.parquet"]
    assert cache.verify(repo_id, cache_dir=tmp_path).ok


def test_verify_offline_uses_the_etags(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo_id, snapshot = _cached(hub, "verify-offline", tmp_path)
    _corrupt(snapshot / "README.md")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub.reset_counters()
    report = cache.verify(repo_id, cache_dir=tmp_path)
    assert hub.requests == [], "offline: nothing is asked of the Hub"
    assert {c.expected_from for c in report.checks} == {"etag"}
    assert [c.path for c in report.corrupt] == ["README.md"]
    assert report.to_polars().filter(status="corrupt")["algorithm"].to_list() == ["git-sha1"]


def test_prune_sweeps_unreferenced_blobs_after_a_grace_period(
    hub: HubServer, tmp_path: Path
) -> None:
    repo_id, _ = _cached(hub, "orphans", tmp_path)
    blobs = _repo_dir(tmp_path, repo_id) / "blobs"
    fresh = blobs / ("f" * 64)  # as an interrupted deletion or a download in flight leaves
    fresh.write_bytes(b"x" * 100)
    assert cache.prune(older_than="100d", cache_dir=tmp_path).swept == 0, "may be in flight"
    old = time.time() - 3600
    os.utime(fresh, (old, old))
    result = cache.prune(older_than="100d", cache_dir=tmp_path)
    assert (result.removed, result.swept) == ((), 100) and not fresh.exists()
    assert "unreferenced" in str(result)
    assert cache.info(cache_dir=tmp_path).datasets["repo_id"].to_list() == [repo_id]


def test_verify_reports_a_truncated_file_without_hashing_it(hub: HubServer, tmp_path: Path) -> None:
    repo_id, snapshot = _cached(hub, "truncated", tmp_path)
    blob = (snapshot / "data/train-00000-of-00001.parquet").resolve()
    os.chmod(blob, 0o644)
    os.truncate(blob, 10)
    (check,) = cache.verify(repo_id, cache_dir=tmp_path).corrupt
    assert check.actual is None and check.detail == "size 10 B, expected 2000 B"
