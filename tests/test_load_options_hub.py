"""Reader options, ``Json`` columns and unknown options through the test Hub, by repo id and
by ``hf://`` URL, loading and streaming, against ``datasets`` (issue 13); no connection
leaves 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crucible_polars as cp
from crucible_polars.testing.hub_server import HubServer

REPO = "options-t/mixed"
FILES = {
    "data/train.csv": b"junk\nid;name\n1;NA\n2;b\n3;-\n",
    "mixed/train.jsonl": b'{"c": -1, "l": [1, "x"]}\n{"c": "foo", "l": [2]}\n',
}


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


@pytest.fixture
def repo(hub: HubServer) -> str:
    hub.add_repo(REPO, FILES)
    return REPO


def _load(lib: Any, fmt: str, files: str, streaming: bool, **kwargs: Any) -> tuple[Any, Any]:
    ds = lib.load_dataset(fmt, data_files=files, split="train", streaming=streaming, **kwargs)
    rows = list(ds) if streaming else ds.to_list()  # a stream consumed to the end
    features = ds.features.to_dict() if ds.features is not None else None
    return features, rows


@pytest.mark.parametrize("streaming", [False, True])
def test_csv_options_through_the_hub_match_datasets(
    repo: str, hub: HubServer, streaming: bool, tmp_path: Path, loopback_only: list[Any]
) -> None:
    import datasets

    url = f"hf://datasets/{repo}/data/train.csv"
    kwargs = {"sep": ";", "skiprows": 1, "na_values": ["-"]}
    ours = _load(cp, "csv", url, streaming, cache_dir=tmp_path, **kwargs)
    theirs = _load(datasets, "csv", url, streaming, **kwargs)
    assert (
        ours[1] == theirs[1] == [{"id": i, "name": n} for i, n in ((1, None), (2, "b"), (3, None))]
    )
    if not streaming:
        assert ours[0] == theirs[0]
    assert hub.count(None, repo) > 0, "nothing was requested from the test Hub"


@pytest.mark.parametrize("streaming", [False, True])
def test_json_values_through_the_hub_match_datasets(
    repo: str, streaming: bool, tmp_path: Path, loopback_only: list[Any]
) -> None:
    import datasets

    ours = cp.load_dataset(repo, data_dir="mixed", split="train", streaming=streaming)
    theirs = datasets.load_dataset(repo, data_dir="mixed", split="train", streaming=streaming)
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert list(ours) == list(theirs) == [{"c": -1, "l": [1, "x"]}, {"c": "foo", "l": [2]}]


@pytest.mark.parametrize("streaming", [False, True])
def test_unknown_option_through_the_hub_is_refused_as_in_datasets(
    repo: str, streaming: bool, tmp_path: Path, loopback_only: list[Any]
) -> None:
    import datasets

    url = f"hf://datasets/{repo}/mixed/train.jsonl"
    for lib in (cp, datasets):  # a packaged reader: TypeError in both
        with pytest.raises(TypeError, match="not_an_option"):
            list(
                lib.load_dataset(
                    "json", data_files=url, split="train", streaming=streaming, not_an_option=1
                )
            )
    # a repo id: datasets raises ValueError ("BuilderConfig ... doesn't have a
    # 'not_an_option' key"), we raise the same TypeError (docs/migrating-from-datasets.md)
    with pytest.raises(ValueError, match="not_an_option"):
        datasets.load_dataset(
            repo, data_dir="mixed", split="train", streaming=streaming, not_an_option=1
        )
    with pytest.raises(TypeError, match="not_an_option"):
        cp.load_dataset(repo, data_dir="mixed", split="train", streaming=streaming, not_an_option=1)
