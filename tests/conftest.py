"""Shared test set-up.

``huggingface_hub`` reads ``HF_ENDPOINT`` and ``HF_HOME`` when it is imported, so they are
set here, before any test module (or ``datasets``) imports it: every test talks to the local
test Hub on 127.0.0.1 and caches into a temporary folder, never to the real Hub.

Every temporary file of the session (``tempfile`` in tests and doctests, pytest's
``tmp_path``, ``TMPDIR`` of subprocesses) goes into one folder, removed when the session
ends, so a run leaves nothing in the temporary directory. The process that creates it owns
it; pytest-xdist workers (and any pytest started by a test) inherit it through
``CRUCIBLE_TEST_TMPDIR`` and leave its removal to the owner, which ends after them.
"""

from __future__ import annotations

import lzma
import os
import shutil
import socket
import tempfile
from pathlib import Path

_SESSION_TMP_VAR = "CRUCIBLE_TEST_TMPDIR"


def _session_tmp() -> tuple[str, bool]:
    """The session's temporary folder, and whether this process created (owns) it."""
    inherited = os.environ.get(_SESSION_TMP_VAR)
    if inherited and os.path.isdir(inherited):
        return inherited, False
    return tempfile.mkdtemp(prefix="crucible-tests-"), True


SESSION_TMP, _OWNS_SESSION_TMP = _session_tmp()
os.environ[_SESSION_TMP_VAR] = SESSION_TMP
os.environ["TMPDIR"] = SESSION_TMP
tempfile.tempdir = SESSION_TMP


def pytest_unconfigure() -> None:
    """Remove the session's temporary folder (in the process that created it)."""
    if _OWNS_SESSION_TMP:
        shutil.rmtree(SESSION_TMP, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TEST_HUB_PORT = _free_port()
_HF_HOME = tempfile.mkdtemp(prefix="crucible-test-hf-home-")
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{TEST_HUB_PORT}"
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_DATASETS_CACHE"] = str(Path(_HF_HOME) / "datasets")
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the same examples every time (no flaky first-seen failures); locally they vary.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

GSM8K_DATA = Path(__file__).resolve().parent / "data" / "gsm8k"


@pytest.fixture(scope="session")
def gsm8k_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real GSM8K JSON lines (``tests/data/gsm8k``, decompressed into a session folder).

    ``train.jsonl``, ``test.jsonl`` and ``test_socratic.jsonl``, as published by OpenAI.
    """
    folder = tmp_path_factory.mktemp("gsm8k")
    for packed in sorted(GSM8K_DATA.glob("*.jsonl.xz")):
        (folder / packed.name.removesuffix(".xz")).write_bytes(lzma.decompress(packed.read_bytes()))
    return folder


# --------------------------------------------------------------------------------------------
# Local test Hub (crucible_polars.testing.hub_server), answering on HF_ENDPOINT
# --------------------------------------------------------------------------------------------

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    from crucible_polars.testing.hub_server import HubServer


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    """The local test Hub, serving on ``HF_ENDPOINT`` (``127.0.0.1:TEST_HUB_PORT``) all session.

    Repositories added by a test stay for the rest of the session: use repo ids unique to
    the test. Prefer the function-scoped :func:`hub` fixture, which also resets counters.
    """
    from crucible_polars.testing.hub_server import HubServer

    server = HubServer(port=TEST_HUB_PORT)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hub(hub_server: HubServer) -> Iterator[HubServer]:
    """:func:`hub_server` with fresh request counters and no pending faults.

    Settings a test changes (``page_size``, ``list_page_size``, ``lfs_redirect``,
    ``reject_unknown_tokens``) are restored afterwards.
    """
    settings = {
        name: getattr(hub_server, name)
        for name in ("page_size", "list_page_size", "lfs_redirect", "reject_unknown_tokens")
    }
    hub_server.clear_faults()
    hub_server.reset_counters()
    yield hub_server
    hub_server.clear_faults()
    for name, value in settings.items():
        setattr(hub_server, name, value)
