"""Fault-injection trials against the test Hub: what a load does under each fault.

A trial loads a dataset while the test Hub injects one fault into one target, then checks
what the load returned, what it left in the cache (every cached blob must match the name it
is stored under), an offline load from that cache, and the same load once the fault is
lifted. Targets: an LFS data file behind a CDN redirect to another host name, a plain (non
LFS) data file, the ``/api`` answers (the first is the revision's), and the tree listing
alone. Faults: ``500``, ``502``,
``503``, ``429`` with ``Retry-After``, a connection reset mid-body, a truncated body, a
stall, and a body of the right length with one byte changed; for the tree listing also
answers that still parse but are wrong (:data:`GARBLES`: an LFS file's sha256 changed, a
small file's git blob id changed, the files left out). Each in download and streaming mode,
once (transient) or for good (persistent).

Used by ``tests/test_faults.py`` (one test per trial) and ``benchmarks/fault_table.py``
(the table of ``docs/reliability.md``). Waits are made tiny with the environment variables of
:mod:`crucible_polars.retry` and ``HF_HUB_ETAG_TIMEOUT`` / ``HF_HUB_DOWNLOAD_TIMEOUT``
(:func:`fast_settings`).

Examples
--------
>>> len(all_trials())
140
>>> all_trials()[0]
Trial(target='lfs', fault='500', mode='download', persistent=False)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import polars as pl
from huggingface_hub import constants

import crucible_polars as cp
from crucible_polars.errors import CrucibleError, OfflineCacheMissError
from crucible_polars.testing.hub_server import HubServer

TARGETS = ("lfs", "plain", "api", "listing")
FAULTS = ("500", "502", "503", "429", "reset", "truncated", "stall", "wrong-bytes")
GARBLES = ("garbled-checksum", "garbled-blob-id", "garbled-truncated")
"""Listing answers that parse but are wrong (tried on the ``listing`` target only)."""
MODES = ("download", "streaming")
RESULTS = ("ok", "clear error", "unclear error", "hung", "silent wrong")

ROWS = 3_000
STALL_SECONDS = 3.0
"""How long a stalled answer keeps the client waiting (above the timeouts of
:func:`fast_settings`)."""
HANG_SECONDS = 60.0
"""A load still running after this long counts as hung."""


@dataclass(frozen=True)
class Trial:
    """One fault on one target in one mode, once or for good."""

    target: str
    fault: str
    mode: str
    persistent: bool

    @property
    def name(self) -> str:
        """A short id, e.g. ``lfs-503-download-transient``."""
        kind = "persistent" if self.persistent else "transient"
        return f"{self.target}-{self.fault}-{self.mode}-{kind}"


@dataclass
class Outcome:
    """What a trial gave.

    Attributes
    ----------
    result : str
        One of :data:`RESULTS`.
    corrupt_cache : list[str]
        Cached blobs whose bytes do not match their name.
    offline : str
        The offline load afterwards: ``ok``, ``missing`` (a clear "not cached") or a failure.
    lifted : str
        The same load with the fault lifted: ``ok`` or a failure.
    detail : str
        The error message, if any.
    """

    trial: Trial
    result: str
    corrupt_cache: list[str]
    offline: str
    lifted: str
    detail: str = ""

    @property
    def good(self) -> bool:
        """Whether the trial meets the bar: ok (or, persistent, a clear error), nothing wrong
        left behind, offline and lifted loads right."""
        allowed = ("ok", "clear error") if self.trial.persistent else ("ok",)
        return (
            self.result in allowed
            and not self.corrupt_cache
            and self.offline in ("ok", "missing")
            and self.lifted == "ok"
        )


def all_trials() -> list[Trial]:
    """Every trial: targets × faults × modes × transient/persistent, then the garbled
    listings × modes × transient/persistent."""
    kinds = (False, True)
    return [Trial(t, f, m, p) for t, f, m, p in product(TARGETS, FAULTS, MODES, kinds)] + [
        Trial("listing", g, m, p) for g, m, p in product(GARBLES, MODES, kinds)
    ]


def fast_settings() -> dict[str, str]:
    """Environment for quick trials: few retries, millisecond waits, sub-second timeouts."""
    return {
        "CRUCIBLE_POLARS_HTTP_RETRIES": "2",
        "CRUCIBLE_POLARS_HTTP_RETRY_WAIT": "0.01",
        "CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT": "0.05",
        "HF_HUB_ETAG_TIMEOUT": "0.5",
        "HF_HUB_DOWNLOAD_TIMEOUT": "0.5",
    }


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=1_000, statistics=True)
    return buffer.getvalue()


def expected_frame() -> pl.DataFrame:
    """The rows both repositories hold."""
    return pl.DataFrame({"id": range(ROWS), "text": [f"row {i:05d}" for i in range(ROWS)]})


def repo_of(trial: Trial) -> str:
    """The trial's own repository (its own URLs, so nothing a process keeps from an earlier
    trial's answers can hide this trial's fault)."""
    return f"faults/{trial.name}"


def add_repo(hub: HubServer, trial: Trial) -> str:
    """Add the trial's repository to ``hub`` (once): the rows of :func:`expected_frame` in an
    LFS parquet file, or, for the ``plain`` target, in a small (non-LFS) JSON lines file."""
    repo = repo_of(trial)
    if repo not in hub.repo_ids():
        frame = expected_frame()
        if trial.target == "plain" or trial.fault == "garbled-blob-id":
            lines = io.BytesIO()
            frame.write_ndjson(lines)
            hub.add_repo(repo, {"data/train.jsonl": lines.getvalue()})
        else:
            hub.add_repo(repo, {"data/train.parquet": _parquet_bytes(frame)})
    return repo


def inject(hub: HubServer, trial: Trial) -> None:
    """Queue the trial's fault on ``hub``."""
    repo = repo_of(trial)
    where = {
        "lfs": f"/cdn-lfs/datasets/{repo}/",
        "plain": f"/datasets/{repo}/resolve/",
        "api": f"/api/datasets/{repo}",  # the revision (no slash after), listing, info
        "listing": f"/api/datasets/{repo}/tree/",
    }[trial.target]
    times = 10_000 if trial.persistent else 1
    body_offset = 40 if trial.target in ("api", "listing") else 2_000
    fault = trial.fault
    if fault in ("500", "502", "503"):
        hub.fail_next(where, times=times, status=int(fault))
    elif fault == "429":
        hub.fail_next(where, times=times, status=429, retry_after=1)
    elif fault in ("reset", "truncated"):
        hub.fail_next(where, body_offset, times=times, reset=fault == "reset")
    elif fault == "stall":
        hub.fail_next(where, times=times, stall=STALL_SECONDS)
    elif fault == "garbled-checksum":
        hub.fail_next(where, times=times, rewrite=changed_checksums)
    elif fault == "garbled-blob-id":
        hub.fail_next(where, times=times, rewrite=changed_blob_ids)
    elif fault == "garbled-truncated":
        hub.fail_next(where, times=times, rewrite=without_files)
    else:
        hub.fail_next(where, times=times, corrupt_at=body_offset)


def changed_checksums(body: bytes) -> bytes:
    """A tree listing with every LFS file's sha256 changed (one hex digit): valid JSON.

    Examples
    --------
    >>> changed_checksums(b'[{"lfs": {"oid": "' + b"a" * 64 + b'"}}]')[18:21]
    b'baa'
    """
    entries = json.loads(body)
    for entry in entries:
        sha = (entry.get("lfs") or {}).get("oid")
        if sha:
            other = ("b" if sha[0] != "b" else "c") + sha[1:]
            body = body.replace(sha.encode(), other.encode())
    return body


def changed_blob_ids(body: bytes) -> bytes:
    """A tree listing with every non-LFS file's git blob id changed (one hex digit): valid
    JSON, and nothing in the listing can tell (only the file's bytes can).

    Examples
    --------
    >>> changed_blob_ids(b'[{"type": "file", "oid": "' + b"a" * 40 + b'"}]')[26:29]
    b'baa'
    """
    for entry in json.loads(body):
        oid = entry.get("oid")
        if entry.get("type") == "file" and not entry.get("lfs") and oid:
            other = ("b" if oid[0] != "b" else "c") + oid[1:]
            body = body.replace(oid.encode(), other.encode())
    return body


def without_files(body: bytes) -> bytes:
    """A tree listing with its files left out (folders kept), padded with spaces to its
    length: valid JSON, cut short.

    Examples
    --------
    >>> without_files(b'[{"type": "file"}, {"type": "directory"}]')
    b'[{"type": "directory"}]                  '
    """
    kept = [e for e in json.loads(body) if e.get("type") != "file"]
    short = json.dumps(kept).encode()
    return short + b" " * (len(body) - len(short))


def _load(repo: str, cache: Path, streaming: bool) -> pl.DataFrame:
    ds = cp.load_dataset(repo, split="train", cache_dir=str(cache), streaming=streaming)
    assert isinstance(ds, (cp.Dataset, cp.IterableDataset))
    rows = ds.to_list() if isinstance(ds, cp.Dataset) else list(ds)
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def _bounded(call: Any) -> tuple[str, Any]:
    """``("ok", value)``, ``("error", exception)`` or ``("hung", None)``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    if thread.is_alive():
        return "hung", None
    if "error" in box:
        return "error", box["error"]
    return "ok", box["value"]


def _classify(kind: str, value: Any, repo: str) -> tuple[str, str]:
    if kind == "hung":
        return "hung", ""
    if kind == "error":
        message = f"{type(value).__name__}: {value}"
        names = repo in str(value) or "train." in str(value)
        clear = isinstance(value, CrucibleError) and names
        return ("clear error" if clear else "unclear error"), message
    return ("ok" if value.equals(expected_frame()) else "silent wrong"), ""


def corrupt_blobs(cache: Path) -> list[str]:
    """Cached blobs whose bytes do not match the sha256 (LFS) or git blob id they are
    stored under."""
    bad = []
    for blob in cache.glob("datasets--*/blobs/*"):
        if blob.name.endswith(".incomplete") or not blob.is_file():
            continue
        data = blob.read_bytes()
        if len(blob.name) == 64:
            actual = hashlib.sha256(data).hexdigest()
        else:
            actual = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if actual != blob.name:
            bad.append(str(blob.relative_to(cache)))
    return bad


@contextmanager
def offline() -> Iterator[None]:
    """``HF_HUB_OFFLINE`` in this process, for the block."""
    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


def run_trial(hub: HubServer, trial: Trial, cache: Path) -> Outcome:
    """Run one trial with a fresh ``cache`` folder (the caller sets :func:`fast_settings`)."""
    repo = add_repo(hub, trial)
    streaming = trial.mode == "streaming"
    hub.lfs_redirect = True
    hub.clear_faults()
    inject(hub, trial)
    try:
        result, detail = _classify(*_bounded(lambda: _load(repo, cache, streaming)), repo)
    finally:
        hub.clear_faults()
    with offline():
        kind, value = _bounded(lambda: _load(repo, cache, streaming))
    if kind == "error" and isinstance(value, OfflineCacheMissError):
        offline_result = "missing"
    else:
        offline_result = _classify(kind, value, repo)[0]
    lifted = _classify(*_bounded(lambda: _load(repo, cache, streaming)), repo)[0]
    return Outcome(trial, result, corrupt_blobs(cache), offline_result, lifted, detail)


GROUP_COLUMNS = ("trials", *RESULTS, "corrupt cache left", "bad offline", "bad after lift")


def table(outcomes: list[Outcome]) -> str:
    """The figures as a Markdown table, one row per mode.

    Examples
    --------
    >>> table([]).splitlines()[0].split(" | ")[:4]
    ['| group', 'trials', 'ok', 'clear error']
    """
    lines = [
        "| group | " + " | ".join(GROUP_COLUMNS) + " |",
        "|---" * (len(GROUP_COLUMNS) + 1) + "|",
    ]
    for mode in MODES:
        mine = [o for o in outcomes if o.trial.mode == mode]
        if not mine:
            continue
        counts = Counter(o.result for o in mine)
        row = [
            len(mine),
            *(counts[r] for r in RESULTS),
            sum(bool(o.corrupt_cache) for o in mine),
            sum(o.offline not in ("ok", "missing") for o in mine),
            sum(o.lifted != "ok" for o in mine),
        ]
        lines.append(f"| Hub faults, {mode} mode | " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)


def apply_settings(settings: dict[str, str]) -> None:
    """Set :func:`fast_settings` (or others) in ``os.environ`` and ``huggingface_hub``, and make
    ``huggingface_hub``'s own backoff waits tiny (:func:`fast_backoff_defaults`)."""
    os.environ.update(settings)
    for name in ("HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT"):
        if name in settings:
            setattr(constants, name, float(settings[name]))
    for function, defaults in fast_backoff_defaults().items():
        assert function.__kwdefaults__ is not None
        function.__kwdefaults__.update(defaults)


def fast_backoff_defaults() -> dict[Any, dict[str, float]]:
    """``huggingface_hub``'s backoff helpers with waits of milliseconds instead of 1 s to 8 s
    (its retries, and waits a ``Retry-After`` asks for, are unchanged).

    Examples
    --------
    >>> sorted(f.__name__ for f in fast_backoff_defaults())
    ['_http_backoff_base', 'http_backoff', 'http_stream_backoff']
    """
    from huggingface_hub.utils import _http

    quick = {"base_wait_time": 0.01, "max_wait_time": 0.05}
    stream = getattr(_http.http_stream_backoff, "__wrapped__", _http.http_stream_backoff)
    functions = (_http.http_backoff, stream, _http._http_backoff_base)
    return {f: quick for f in functions if f.__kwdefaults__ is not None}
