"""Streaming JSON lines from the test Hub through faults: ``429`` with ``Retry-After``,
``503``s and a connection reset part-way through a body, in one pass over several files.
Every row comes once, in order (the parquet counterpart is in ``test_hub_retries.py``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

import crucible_polars as cp
from crucible_polars.testing.hub_server import HubServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_proxy import FaultProxy

ROWS = 30_000  # three files of ~0.6 MB
FILES = tuple(f"data/train-0000{i}-of-00003.jsonl" for i in range(3))


def _lines(start: int, stop: int) -> bytes:
    rows = ({"id": i, "text": f"row {i} " + "x" * (i % 23)} for i in range(start, stop))
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def repo(hub: HubServer) -> str:
    repo_id = "retries/json-lines"
    if repo_id not in hub.repo_ids():
        third = ROWS // 3
        hub.add_repo(
            repo_id, {path: _lines(i * third, (i + 1) * third) for i, path in enumerate(FILES)}
        )
    return repo_id


@pytest.fixture
def proxy(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The test Hub behind a fault proxy, as the Hub endpoint; retry waits of milliseconds."""
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRIES", "4")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRY_WAIT", "0.01")
    monkeypatch.setenv("CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT", "0.05")
    with FaultProxy(hub.url) as fault_proxy:
        template = constants.HUGGINGFACE_CO_URL_TEMPLATE.replace(hub.url, fault_proxy.url)
        monkeypatch.setattr(constants, "ENDPOINT", fault_proxy.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        yield fault_proxy


def test_json_lines_stream_through_429_503_and_a_reset(
    proxy: FaultProxy, repo: str, tmp_path: Path
) -> None:
    ds = cp.load_dataset(repo, split="train", streaming=True, cache_dir=tmp_path)
    proxy.fail(FILES[1], method="GET", status=503, times=3)  # the first file was read to
    # learn the columns, so faults go to the next ones
    proxy.fail(FILES[1], method="GET", reset_after=200_000)  # mid-body
    proxy.fail(FILES[2], method="GET", status=429, headers={"Retry-After": "1"})
    ids = [int(r["id"]) for r in ds]
    assert ids == list(range(ROWS))
    faults = [s.fault for s in proxy.seen if s.fault is not None]
    assert faults.count("status 503") == 3 and faults.count("reset") == 1
    assert faults.count("status 429") == 1
    on_last = [s for s in proxy.seen if FILES[2] in s.path and s.method == "GET"]
    first = next(i for i, s in enumerate(on_last) if s.fault is not None)
    assert on_last[first + 1].at - on_last[first].at >= 1.0  # Retry-After honoured
