"""Progress bars on long local work, as ``datasets`` shows them (``map``/``filter``,
``save_to_disk``, ``to_parquet``/``to_json``/``to_csv``, ``flatten_indices`` of large
gathers), ``desc=`` honoured, and none when ``cp.disable_progress_bars()`` or
``HF_DATASETS_DISABLE_PROGRESS_BARS`` says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import crucible_polars as cp
from crucible_polars import materialize, progress

ROWS = 3000


@pytest.fixture
def bars() -> Iterator[None]:
    cp.enable_progress_bars()
    try:
        yield
    finally:
        progress._state["disabled"] = None  # back to what the environment says


def _ds() -> cp.Dataset:
    return cp.Dataset.from_dict({"a": list(range(ROWS)), "b": [str(i) for i in range(ROWS)]})


WRITES: dict[str, tuple[Callable[[cp.Dataset, Path], Any], str]] = {
    "save_to_disk": (
        lambda ds, tmp: ds.save_to_disk(str(tmp / "saved"), num_shards=2),
        "Saving the dataset (2/2 shards)",
    ),
    "to_parquet": (
        lambda ds, tmp: ds.to_parquet(str(tmp / "a.parquet")),
        "Creating parquet from Arrow format",
    ),
    "to_json": (
        lambda ds, tmp: ds.to_json(str(tmp / "a.jsonl")),
        "Creating json from Arrow format",
    ),
    "to_csv": (lambda ds, tmp: ds.to_csv(str(tmp / "a.csv")), "Creating CSV from Arrow format"),
    "map": (lambda ds, tmp: ds.map(lambda r: {"c": r["a"] + 1})[:], "Map"),
    "map desc": (lambda ds, tmp: ds.map(lambda r: r, desc="Tokenizing")[:], "Tokenizing"),
    "filter desc": (lambda ds, tmp: ds.filter(lambda r: True, desc="Keeping")[:], "Keeping"),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_long_work_shows_a_bar(
    name: str, bars: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write, text = WRITES[name]
    write(_ds(), tmp_path)
    err = capsys.readouterr().err
    assert text in err and f"{ROWS}/{ROWS}" in err and "100%" in err, err[-500:]


@pytest.mark.parametrize("name", list(WRITES))
def test_no_bar_when_disabled(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(progress._state, "disabled", None)
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    WRITES[name][0](_ds(), tmp_path)
    assert capsys.readouterr().err == ""
    cp.disable_progress_bars()
    try:
        WRITES[name][0](_ds(), tmp_path / "again")
    finally:
        progress._state["disabled"] = None
    assert capsys.readouterr().err == ""


def test_written_files_are_the_same_with_and_without_bars(tmp_path: Path) -> None:
    ds = _ds().map(lambda r: {"c": r["a"] / 3})
    for method in ("to_csv", "to_json"):
        cp.enable_progress_bars()
        try:
            getattr(ds, method)(str(tmp_path / f"bars.{method}"))
        finally:
            progress._state["disabled"] = None
        cp.disable_progress_bars()
        try:
            getattr(ds, method)(str(tmp_path / f"plain.{method}"))
        finally:
            progress._state["disabled"] = None
        bars = (tmp_path / f"bars.{method}").read_bytes()
        assert bars == (tmp_path / f"plain.{method}").read_bytes(), method


def test_a_partial_read_leaves_no_bar_stuck(bars: None, capsys: pytest.CaptureFixture[str]) -> None:
    mapped = _ds().map(lambda r: {"c": r["a"]})
    assert mapped[0]["c"] == 0  # reads the first batch only
    err = capsys.readouterr().err
    assert "100%" not in err and err.endswith("\r"), err  # the bar was erased


def test_flattening_large_gathers_shows_a_bar(
    bars: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialize, "IN_MEMORY_BYTES", 1)  # a gather written to a file
    shuffled = _ds().shuffle(seed=0).flatten_indices()
    assert sorted(shuffled["a"]) == list(range(ROWS))
    assert "Flattening the indices" in capsys.readouterr().err
