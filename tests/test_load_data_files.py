"""Where ``data_files=`` and ``data_dir=`` look, against ``datasets`` (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import crucible_polars as cp


def _rows(load: Any, path: Path, **kwargs: Any) -> Any:
    try:
        return {s: d.to_list() for s, d in load(str(path), **kwargs).items()}
    except FileNotFoundError:
        return "FileNotFoundError"


def _same(path: Path, **kwargs: Any) -> None:
    import datasets

    assert _rows(cp.load_dataset, path, **kwargs) == _rows(datasets.load_dataset, path, **kwargs)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


CARD_DATA_DIR = "---\nconfigs:\n- config_name: c\n  data_dir: sub\n---\n"
CARD_GLOB = '---\nconfigs:\n- config_name: c\n  data_files: "*.csv"\n---\n'


@pytest.mark.parametrize(
    ("card", "kwargs"),
    [
        (CARD_DATA_DIR, {}),
        (CARD_DATA_DIR, {"data_files": "root.csv"}),
        (CARD_DATA_DIR, {"data_files": "s.csv"}),
        (CARD_GLOB, {}),
        (CARD_GLOB, {"data_dir": "x"}),
        ("", {"data_files": "__pycache__/x.csv"}),
        ("", {"data_files": "**"}),
        ("", {}),
    ],
)
def test_data_files_and_data_dir_match_datasets(
    card: str, kwargs: dict[str, Any], tmp_path: Path
) -> None:
    root = _write(
        tmp_path,
        {
            "root.csv": "a\n1\n",
            "sub/s.csv": "a\n2\n",
            "x/t.csv": "a\n5\n",
            "__pycache__/x.csv": "a\n8\n",
        },
    )
    if card:
        (root / "README.md").write_text(card)
    _same(root, **kwargs)
