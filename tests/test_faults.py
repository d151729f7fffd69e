"""The fault-injection suite: every target × fault × mode × transient/persistent on the
test Hub (see :mod:`crucible_polars.testing.fault_trials`).

After each trial: the load's result (ok, or for a persistent fault a clear error naming the
repository or file), every cached blob checked against its name, an offline load from that
cache (right rows or a clear "not cached"), and the same load with the fault lifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crucible_polars.testing import fault_trials as ft
from crucible_polars.testing.hub_server import HubServer


@pytest.fixture
def rig(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    for name, value in ft.fast_settings().items():
        monkeypatch.setenv(name, value)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 0.5)
    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 0.5)
    for function, defaults in ft.fast_backoff_defaults().items():
        for name, value in defaults.items():
            monkeypatch.setitem(function.__kwdefaults__, name, value)
    yield hub


@pytest.mark.parametrize("trial", ft.all_trials(), ids=lambda t: t.name)
def test_fault(rig: HubServer, trial: ft.Trial, tmp_path: Path) -> None:
    outcome = ft.run_trial(rig, trial, tmp_path / "cache")
    assert outcome.good, outcome
