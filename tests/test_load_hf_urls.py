"""``hf://`` data files through the local test Hub (``HF_ENDPOINT``), as ``datasets`` reads them."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crucible_polars as cp
from crucible_polars.errors import DataFilesNotFoundError
from crucible_polars.testing.hub_server import HubServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hub_repos


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail any Python-level connection to an address other than 127.0.0.1."""
    seen: list[Any] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"connection to {address} left 127.0.0.1")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield seen


def _rows(ds: Any) -> list[dict[str, Any]]:
    return list(ds.to_list())


def _same_as_datasets(url: str, cache_dir: Path) -> list[dict[str, Any]]:
    """Load ``url`` with both libraries; same Features, columns and rows; the rows."""
    import datasets

    ours = cp.load_dataset("parquet", data_files=url, split="train", cache_dir=cache_dir)
    theirs = datasets.load_dataset("parquet", data_files=url, split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.column_names == theirs.column_names
    assert _rows(ours) == _rows(theirs)
    return _rows(ours)


def test_hf_data_files_go_through_the_configured_endpoint(
    hub: HubServer, tmp_path: Path, loopback_only: list[Any]
) -> None:
    repo = "mirror-only-t/moving"
    hub_repos.add_moving_repo(hub, repo)
    rows = _same_as_datasets(f"hf://datasets/{repo}/**/*.parquet", tmp_path)
    assert rows == [{"x": 10}, {"x": 20}]
    rows = _same_as_datasets(f"hf://datasets/{repo}@v1/**/*.parquet", tmp_path)
    assert rows == [{"x": 1}, {"x": 2}, {"x": 3}]
    streamed = cp.load_dataset(
        "parquet",
        data_files=f"hf://datasets/{repo}@v1/**/*.parquet",
        split="train",
        streaming=True,
        cache_dir=tmp_path,
    )
    assert list(streamed) == rows
    # every request reached the test Hub (connections may be reused, so count its requests)
    assert hub.count(None, repo) > 0, "nothing was requested from the test Hub"


def test_hf_url_on_the_parquet_branch_and_missing_files(
    hub: HubServer, tmp_path: Path, loopback_only: list[Any]
) -> None:
    repo = "mirror-only-t/script"
    hub_repos.add_script_only(hub, repo)
    url = f"hf://datasets/{repo}@refs/convert/parquet/**/*.parquet"
    assert _same_as_datasets(url, tmp_path)
    with pytest.raises(DataFilesNotFoundError, match="nothing-here"):
        cp.load_dataset(
            "parquet", data_files=f"hf://datasets/{repo}/nothing-here/*.parquet", cache_dir=tmp_path
        )


def test_hf_url_offline_reads_the_cache(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = "mirror-only-t/offline"
    hub_repos.add_moving_repo(hub, repo)
    url = f"hf://datasets/{repo}/**/*.parquet"
    first = cp.load_dataset("parquet", data_files=url, split="train", cache_dir=tmp_path)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub.reset_counters()
    again = cp.load_dataset("parquet", data_files=url, split="train", cache_dir=tmp_path)
    assert _rows(again) == _rows(first)
    assert not hub.requests


def test_hf_url_as_the_path(hub: HubServer, tmp_path: Path, loopback_only: list[Any]) -> None:
    repo = "mirror-only-t/as-path"
    hub_repos.add_moving_repo(hub, repo)
    file_url = f"hf://datasets/{repo}@v1/**/*.parquet"
    ds = cp.load_dataset(file_url, split="train", cache_dir=tmp_path)
    assert _rows(ds) == [{"x": 1}, {"x": 2}, {"x": 3}]
    whole = cp.load_dataset(f"hf://datasets/{repo}@v1", split="train", cache_dir=tmp_path)
    assert _rows(whole) == _rows(ds)


def test_hf_url_of_a_gated_repo_sends_the_token(hub: HubServer, tmp_path: Path) -> None:
    from crucible_polars.errors import HubAccessError

    token = "hf_crucible_hf_url_secret_0123456789"
    repo = "gated-t/hf-url"
    hub_repos.add_gated(hub, repo, token)
    url = f"hf://datasets/{repo}/**/*.parquet"
    with pytest.raises(HubAccessError):
        cp.load_dataset("parquet", data_files=url, split="train", cache_dir=tmp_path)
    ds = cp.load_dataset("parquet", data_files=url, split="train", token=token, cache_dir=tmp_path)
    assert ds.to_dict() == {"prompt": ["a", "b", "c"], "score": [1, 2, 3]}
