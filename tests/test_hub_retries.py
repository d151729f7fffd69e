"""Transient Hub faults are retried, persistent ones end in an error naming the file.

Every test loads from the test Hub through :class:`fault_proxy.FaultProxy`, which answers
``429`` with ``Retry-After``, ``503``/``500`` and connection resets where a test asks. The
retry waits are made tiny (``CRUCIBLE_POLARS_HTTP_RETRY_*``), except the ones a server asks
for with ``Retry-After``, which must be honoured.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from huggingface_hub import HfApi, constants, get_cached_repo_tree, snapshot_download

import crucible_polars as cp
from crucible_polars.errors import HubDownloadError, StreamReadError
from crucible_polars.retry import retry_policy
from crucible_polars.testing.hub_server import HubServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_proxy import FaultProxy, Seen

ROWS = 40_000  # two files of ~170 kB: more than the footer read (64 kB) takes
FILES = ("data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet")


def _parquet(start: int, stop: int) -> bytes:
    buffer = io.BytesIO()
    noise = np.random.default_rng(start).integers(0, 1 << 62, stop - start)  # incompressible
    frame = pl.DataFrame({"id": range(start, stop), "noise": noise})
    frame.write_parquet(buffer, row_group_size=2_000, statistics=True)
    return buffer.getvalue()


@pytest.fixture
def repo(hub: HubServer) -> str:
    repo_id = "retries/two-big-files"
    if repo_id not in hub.repo_ids():
        half = ROWS // 2
        hub.add_repo(repo_id, {FILES[0]: _parquet(0, half), FILES[1]: _parquet(half, ROWS)})
    return repo_id


@pytest.fixture
def proxy(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The test Hub behind a fault proxy, as the Hub endpoint; retry waits of milliseconds."""
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRIES", "4")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRY_WAIT", "0.01")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT", "0.05")
    # read by ranges (not fetched whole and checked first, as files this small would be)
    monkeypatch.setenv("CRUCIBLE_POLARS_STREAM_CHECK_WHOLE_BYTES", "0")
    with FaultProxy(hub.url) as fault_proxy:
        template = constants.HUGGINGFACE_CO_URL_TEMPLATE.replace(hub.url, fault_proxy.url)
        monkeypatch.setattr(constants, "ENDPOINT", fault_proxy.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        yield fault_proxy


def _ids(ds: Any) -> list[int]:
    return [int(i) for batch in ds.iter(batch_size=1_000) for i in batch["id"]]


def _gap_after_fault(seen: list[Seen], path: str) -> float:
    """Seconds between the first faulted request on ``path`` and the next request on it."""
    on_path = [s for s in seen if path in s.path]
    first = next(i for i, s in enumerate(on_path) if s.fault is not None)
    return on_path[first + 1].at - on_path[first].at


# ------------------------------------------------------------------------------ streaming


def test_streaming_waits_what_retry_after_asks(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    # the first row group's read (the footer is read twice at once, to check it: the
    # other read of the pair would follow a 429 on the first within milliseconds)
    proxy.fail(FILES[1], method="GET", status=429, headers={"Retry-After": "1"}, skip=2)
    ds = cp.load_dataset(repo, split="train", streaming=True, cache_dir=tmp_path)
    assert _ids(ds) == list(range(ROWS))
    assert _gap_after_fault(proxy.seen, FILES[1]) >= 1.0


def test_streaming_survives_503s_resets_and_429s_in_one_pass(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    ds = cp.load_dataset(repo, split="train", streaming=True, cache_dir=tmp_path)
    proxy.fail(FILES[0], method="GET", status=503, times=3)
    proxy.fail(FILES[0], method="GET", reset_after=500, skip=1, times=2)
    proxy.fail(FILES[1], method="GET", status=429, times=2)
    assert _ids(ds) == list(range(ROWS))
    faults = [s.fault for s in proxy.seen if s.fault is not None]
    assert faults.count("status 503") == 3 and faults.count("reset") == 2
    assert faults.count("status 429") == 2


def test_streaming_resumes_a_reset_body_from_the_byte_reached(
    proxy: FaultProxy, repo: str, tmp_path: Path, hub: HubServer
) -> None:
    ds = cp.load_dataset(repo, split="train", streaming=True, cache_dir=tmp_path)
    hub.reset_counters()
    proxy.fail(FILES[0], method="GET", reset_after=3_000, skip=1)  # after the footer read
    assert _ids(ds) == list(range(ROWS))
    asked = [r.range for r in hub.requests if FILES[0] in r.path and r.method == "GET"]
    cut = asked[1]  # the read that was reset
    start = int(str(cut).split("=")[1].split("-")[0])
    assert asked[2].startswith(f"bytes={start + 3_000}-")


def test_streaming_persistent_503_names_the_file_and_offset(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    ds = cp.load_dataset(repo, split="train", streaming=True, cache_dir=tmp_path)
    proxy.fail(FILES[1], method="GET", status=503, times=100)
    with pytest.raises(StreamReadError) as info:
        _ids(ds)
    assert FILES[1] in info.value.path and info.value.attempts == retry_policy().attempts
    assert "HTTP 503" in str(info.value) and "load_state_dict" in str(info.value)


def test_streaming_timeout_follows_hf_hub_download_timeout(
    proxy: FaultProxy, repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crucible_polars.streaming import ranges

    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 7)
    assert ranges._backoff_options()["timeout"] == 7


# ------------------------------------------------------------------------------ downloads


def test_download_retries_a_reset_during_the_data_download(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    proxy.fail(FILES[0], method="GET", reset_after=100, times=2)
    ds = cp.load_dataset(repo, split="train", cache_dir=tmp_path)
    assert ds["id"] == list(range(ROWS))
    assert [s.fault for s in proxy.seen].count("reset") == 2


def test_download_retries_5xx_from_the_file_server(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    proxy.fail(FILES[1], method="GET", status=500, times=2)
    proxy.fail(FILES[0], method="GET", status=502)
    ds = cp.load_dataset(repo, split="train", cache_dir=tmp_path)
    assert ds["id"] == list(range(ROWS))


def test_download_honours_retry_after_on_the_first_api_call(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    api_path = f"/api/datasets/{repo}"
    proxy.fail(api_path, status=429, headers={"Retry-After": "1"})
    ds = cp.load_dataset(repo, split="train", cache_dir=tmp_path)
    assert ds.num_rows == ROWS
    assert _gap_after_fault(proxy.seen, api_path) >= 1.0


def test_download_retries_a_failing_listing(proxy: FaultProxy, repo: str, tmp_path: Path) -> None:
    proxy.fail("/tree/", status=503)
    proxy.fail("/tree/", reset_after=10)
    assert cp.load_dataset(repo, split="train", cache_dir=tmp_path).num_rows == ROWS


def test_download_persistent_fault_names_the_repo_and_file(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    proxy.fail(FILES[1], method="GET", status=500, times=100)
    with pytest.raises(HubDownloadError) as info:
        cp.load_dataset(repo, split="train", cache_dir=tmp_path)
    error = info.value
    assert (error.repo_id, error.path) == (repo, FILES[1])
    assert error.attempts == retry_policy().attempts
    assert FILES[1] in str(error) and repo in str(error) and "try again later" in str(error)


def test_download_persistent_api_fault_names_what_was_asked(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    proxy.fail(f"/api/datasets/{repo}", reset_after=0, times=100)
    with pytest.raises(HubDownloadError) as info:
        cp.load_dataset(repo, split="train", cache_dir=tmp_path)
    assert info.value.path == "the commit of revision 'main'"
    assert "ReadError" in info.value.reason or "RemoteProtocolError" in info.value.reason


# ------------------------------------------------------------------------------ tree cache


def test_the_listing_lands_in_huggingface_hubs_tree_cache(
    hub: HubServer, repo: str, tmp_path: Path
) -> None:
    """Pins the private ``huggingface_hub._tree_cache`` writer: it must exist, and what it
    wrote must be what ``get_cached_repo_tree`` and ``snapshot_download`` read."""
    from huggingface_hub import _tree_cache

    assert callable(_tree_cache.write_tree_cache)
    cp.load_dataset(repo, split="train", cache_dir=tmp_path)
    sha = HfApi().dataset_info(repo).sha
    listed = {f.path: f for f in HfApi().list_repo_tree(repo, repo_type="dataset", recursive=True)}
    cached = get_cached_repo_tree(repo, repo_type="dataset", revision=sha, cache_dir=tmp_path)
    assert {f.path: (f.size, f.blob_id) for f in cached} == {
        p: (f.size, f.blob_id) for p, f in listed.items() if hasattr(f, "blob_id")
    }
    hub.reset_counters()
    snapshot_download(
        repo, repo_type="dataset", revision=sha, cache_dir=tmp_path, allow_patterns=list(FILES)
    )
    assert hub.requests == []  # listing read from our cache; files pinned to the commit


# ------------------------------------------------------------------------------ token scope


def test_the_token_goes_only_to_the_sources_own_endpoint() -> None:
    from crucible_polars.streaming.ranges import HttpBytes

    mirror = "http://hub-mirror.internal:8080"
    on_mirror = HttpBytes(f"{mirror}/datasets/o/r/resolve/main/a.parquet", "hf_x", mirror)
    assert on_mirror._headers.get("authorization") == "Bearer hf_x"
    elsewhere = HttpBytes("http://cdn.example/a.parquet", "hf_x", mirror)
    default_hub = HttpBytes(f"{constants.ENDPOINT}/datasets/o/r/resolve/main/a.parquet", "hf_x")
    assert "authorization" not in elsewhere._headers
    assert default_hub._headers.get("authorization") == "Bearer hf_x"
    not_the_mirror = HttpBytes(f"{constants.ENDPOINT}/datasets/o/r/resolve/main/a", "hf_x", mirror)
    assert "authorization" not in not_the_mirror._headers
