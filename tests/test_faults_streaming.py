"""Streamed bytes checked against the file listing's checksums (``streaming/checksums.py``).

Small files are fetched whole and checked before use (the fault trials of ``test_faults.py``
cover them); these tests make every file "large" (``CRUCIBLE_POLARS_STREAM_CHECK_WHOLE_BYTES
=0``) to check the range path: a pass that reads the whole file is hashed and checked at its
end, a footer is kept only once two reads agree, nothing found wrong is kept, and a worker
process gets the checksums with the pickled stream.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.errors import StreamChecksumError
from crucible_polars.sources.hub_digests import expected_digest
from crucible_polars.streaming import parquet as streamed_parquet
from crucible_polars.testing.hub_server import HubServer

ROWS = 40_000
PARQUET = "data/train.parquet"
LINES = "data/train.jsonl"


def _frame() -> pl.DataFrame:
    noise = np.random.default_rng(0).integers(0, 1 << 62, ROWS)
    return pl.DataFrame({"id": range(ROWS), "noise": noise})


def _parquet() -> bytes:
    buffer = io.BytesIO()  # uncompressed: a changed byte is a wrong value, not a decode error
    _frame().write_parquet(buffer, row_group_size=4_000, compression="uncompressed")
    return buffer.getvalue()


@pytest.fixture
def checked(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    monkeypatch.setenv("CRUCIBLE_POLARS_STREAM_CHECK_WHOLE_BYTES", "0")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRIES", "2")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRY_WAIT", "0.001")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT", "0.002")
    hub.lfs_redirect = True
    yield hub


def _repo(hub: HubServer, name: str) -> str:
    """A repository of its own per test: nothing a process keeps from another test's reads
    (footers, checked files) is shared."""
    repo = f"checked/{name}"
    if repo not in hub.repo_ids():
        lines = _frame().write_ndjson().encode()
        hub.add_repo(repo, {PARQUET: _parquet()} if "lines" not in name else {LINES: lines})
    return repo


def _ids(ds: Any) -> list[int]:
    return [int(i) for batch in ds.iter(batch_size=5_000) for i in batch["id"]]


def _values(ds: Any) -> pl.DataFrame:
    return pl.concat([b for b in ds.iter(batch_size=5_000, format="polars")])


def test_a_clean_full_pass_is_checked(checked: HubServer) -> None:
    repo = _repo(checked, "clean")
    ds = cp.load_dataset(repo, split="train", streaming=True)
    assert _values(ds).equals(_frame())
    [source] = [s for (u, _), s in streamed_parquet._sources.items() if repo in u]
    assert source.digest is not None and source._hasher is not None
    assert source._hasher.checked == 1
    assert _values(ds).equals(_frame())  # a second pass is checked again
    assert source._hasher.checked == 2


def test_a_wrong_byte_in_a_row_group_fails_the_pass_at_the_end(checked: HubServer) -> None:
    repo = _repo(checked, "row-group")
    ds = cp.load_dataset(repo, split="train", streaming=True)  # the footer is read here
    checked.fail_next(f"/cdn-lfs/datasets/{repo}/", corrupt_at=5_000)  # the first row group
    with pytest.raises(StreamChecksumError) as info:
        _values(ds)
    assert PARQUET in info.value.path and repo in info.value.path
    assert info.value.rows_used and "already yielded may be wrong" in str(info.value)
    assert _values(ds).equals(_frame())  # nothing wrong was kept: the next pass is right


def test_each_pass_is_hashed_on_its_own(checked: HubServer) -> None:
    repo = _repo(checked, "passes")
    ds = cp.load_dataset(repo, split="train", streaming=True)
    assert [r["id"] for r in ds.take(3)] == [0, 1, 2]  # hashes the first row group, right
    checked.fail_next(f"/cdn-lfs/datasets/{repo}/", corrupt_at=5_000)  # the pass's first one
    with pytest.raises(StreamChecksumError):
        _values(ds)
    assert _values(ds).equals(_frame())


def test_partial_passes_read_right(checked: HubServer) -> None:
    repo = _repo(checked, "partial")
    ds = cp.load_dataset(repo, split="train", streaming=True)
    assert [r["id"] for r in ds.take(3)] == [0, 1, 2]
    assert [r["id"] for r in ds.skip(20_000).take(2)] == [20_000, 20_001]
    assert _values(ds).equals(_frame())


def test_a_wrong_footer_read_is_read_again(checked: HubServer) -> None:
    repo = _repo(checked, "footer")
    checked.fail_next(f"/cdn-lfs/datasets/{repo}/", corrupt_at=60_000)  # the first footer read
    ds = cp.load_dataset(repo, split="train", streaming=True)
    assert _values(ds).equals(_frame())
    footers = [r for r in checked.requests if repo in r.path and r.range == "bytes=-65536"]
    assert len(footers) == 3 * 2  # three reads (two agree), each redirected to the CDN


def test_a_persistently_wrong_file_ends_in_a_clear_error(checked: HubServer) -> None:
    repo = _repo(checked, "persistent")
    checked.fail_next(f"/cdn-lfs/datasets/{repo}/", corrupt_at=20_000, times=10_000)
    try:
        with pytest.raises(StreamChecksumError) as info:
            _values(cp.load_dataset(repo, split="train", streaming=True))
        assert "If it persists" in str(info.value)
    finally:
        checked.clear_faults()
    assert not [k for k in streamed_parquet._sources if repo in k[0]]  # forgotten
    assert _values(cp.load_dataset(repo, split="train", streaming=True)).equals(_frame())


def test_a_line_file_read_through_is_checked_at_its_end(
    checked: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crucible_polars.streaming import lines

    monkeypatch.setattr(lines, "_BLOCK_BYTES", 64 << 10)  # several reads per file
    repo = _repo(checked, "lines")
    ds = cp.load_dataset(repo, split="train", streaming=True)
    assert _ids(ds) == list(range(ROWS))
    body = _frame().write_ndjson().encode()
    digit = body.index(b'"noise":', 30_000) + len(b'"noise":') + 5  # inside the first read
    checked.fail_next(f"/datasets/{repo}/resolve/", corrupt_at=digit)  # one digit changed
    with pytest.raises(StreamChecksumError) as info:
        _ids(ds)
    assert LINES in info.value.path and info.value.rows_used
    assert _ids(ds) == list(range(ROWS))


def test_a_line_file_read_in_one_request_is_read_again(checked: HubServer) -> None:
    repo = _repo(checked, "lines-whole")
    ds = cp.load_dataset(repo, split="train", streaming=True)  # blocks of 2 MiB: one read
    checked.fail_next(f"/datasets/{repo}/resolve/", corrupt_at=100_000)
    assert _ids(ds) == list(range(ROWS))


def test_the_checksums_go_with_the_pickled_stream(checked: HubServer) -> None:
    from crucible_polars.sources import hub_digests

    repo = _repo(checked, "pickled")
    ds = cp.load_dataset(repo, split="train", streaming=True)
    url = next(u for u in hub_digests._expected if repo in u)
    state = pickle.dumps(ds)
    digest = hub_digests._expected.pop(url)  # as in a fresh (spawned) worker process
    assert expected_digest(url) is None
    clone = pickle.loads(state)
    assert expected_digest(url) == digest
    assert _ids(clone) == list(range(ROWS))


def test_a_wrong_blob_id_in_the_listing_is_listed_again(
    checked: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crucible_polars.streaming import lines
    from crucible_polars.testing.fault_trials import changed_blob_ids

    monkeypatch.setattr(lines, "_BLOCK_BYTES", 64 << 10)
    repo = _repo(checked, "lines-garbled-listing")
    checked.fail_next(f"/api/datasets/{repo}/tree/", rewrite=changed_blob_ids)  # passes checks
    ds = cp.load_dataset(repo, split="train", streaming=True)
    assert _ids(ds) == list(range(ROWS))  # the pass matched the listing asked again
    checked.reset_counters()
    fresh = cp.load_dataset(repo, split="train", streaming=True)
    assert _ids(fresh) == list(range(ROWS))
    assert checked.count(path_substring="/tree/") == 0  # the cached listing was repaired
