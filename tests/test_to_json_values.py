"""``to_json`` writes ``Json`` values decoded, byte for byte as ``datasets`` 5 writes them
(issue 13): top-level ``Json`` columns, ``Json`` inside lists and structs, JSON lines and one
array, to a path and to a file object, after a shuffle and after ``save_to_disk``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars import progress
from crucible_polars.features import Features, Json, List, Value
from crucible_polars.json_output import json_line

# ASCII strings and floats of at most 10 decimals: where Polars' and pandas' writers agree
FILES: dict[str, list[dict[str, Any]]] = {
    "top": [
        {"c": -1, "id": 0},
        {"c": 'fo/o \u00e9"\n', "id": 1},
        {"c": {"x": [1, 2.5]}, "id": 2},
        {"c": None, "id": 3},
        {"c": [1, "a", None, True], "id": 4},
        {"c": 1.5, "id": 5},
        {"c": False, "id": 6},
    ],
    "nested": [
        {"l": [1, "a/b", None], "s": {"k": 1, "n": 2}, "ls": [{"k": 1.25}], "id": 0},
        {"l": None, "s": {"k": "x", "n": 3}, "ls": [{"k": "y"}, None], "id": 1},
        {"l": [], "s": None, "ls": None, "id": 2},
        {"l": [{"z": [1]}], "s": {"k": None, "n": None}, "ls": [], "id": 3},
    ],
    "only_json": [{"c": 1}, {"c": "x"}, {"c": None}],
}


@pytest.fixture(params=sorted(FILES))
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[cp.Dataset, Any]:
    import datasets

    path = tmp_path / f"{request.param}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in FILES[request.param]))
    ours = cp.load_dataset("json", data_files=str(path), split="train")
    theirs = datasets.load_dataset("json", data_files=str(path), split="train")
    assert "Json" in json.dumps(ours.features.to_dict())
    return ours, theirs


def _theirs(ds: Any, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    ds.to_json(buffer, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize("lines", [True, False])
def test_bytes_match_datasets(pair: tuple[cp.Dataset, Any], lines: bool, tmp_path: Path) -> None:
    ours, theirs = pair
    expected = _theirs(theirs, lines=lines)
    buffer = io.BytesIO()
    assert ours.to_json(buffer, lines=lines) == len(expected)
    assert buffer.getvalue() == expected
    path = tmp_path / "out.json"
    assert ours.to_json(path, lines=lines) == len(expected)
    assert path.read_bytes() == expected
    small = io.BytesIO()  # several batches
    ours.to_json(small, lines=lines, batch_size=2)
    assert small.getvalue() == expected


def test_shuffled_and_saved_match_datasets(pair: tuple[cp.Dataset, Any], tmp_path: Path) -> None:
    ours, theirs = pair
    expected = _theirs(theirs.shuffle(seed=3))
    buffer = io.BytesIO()
    ours.shuffle(seed=3).to_json(buffer)
    assert buffer.getvalue() == expected
    ours.save_to_disk(tmp_path / "saved")
    cp.load_from_disk(tmp_path / "saved").to_json(tmp_path / "saved.jsonl")
    assert (tmp_path / "saved.jsonl").read_bytes() == _theirs(theirs)


def test_written_file_loads_back_as_datasets_loads_it(
    pair: tuple[cp.Dataset, Any], tmp_path: Path
) -> None:
    import datasets

    ours, theirs = pair
    ours.to_json(tmp_path / "ours.jsonl")
    again = cp.load_dataset("json", data_files=str(tmp_path / "ours.jsonl"), split="train")
    assert again.features == ours.features
    assert again.to_list() == theirs.to_list()
    theirs_again = datasets.load_dataset(
        "json", data_files=str(tmp_path / "ours.jsonl"), split="train"
    )
    assert theirs_again.to_list() == theirs.to_list()


def test_from_dict_with_json_features_matches_datasets() -> None:
    import datasets

    data = {"c": [{"a": 1}, [1, "b"], "x/y", None], "n": [1, 2, 3, 4]}
    ours = cp.Dataset.from_dict(data, features=Features({"c": Json(), "n": Value("int64")}))
    theirs = datasets.Dataset.from_dict(
        data, features=datasets.Features({"c": datasets.Json(), "n": datasets.Value("int64")})
    )
    buffer = io.BytesIO()
    ours.to_json(buffer)
    assert buffer.getvalue() == _theirs(theirs)


def test_undecoded_json_is_written_decoded_too() -> None:
    import datasets

    # datasets decodes every Json feature when writing, decode=False included
    data = {"c": [{"k": [1]}, None]}
    theirs = datasets.Dataset.from_dict(data, features=datasets.Features({"c": datasets.Json()}))
    theirs = theirs.cast(datasets.Features({"c": datasets.Json(decode=False)}))
    ours = cp.Dataset.from_dict(data, features=Features({"c": Json()}))
    ours = ours.cast(Features({"c": Json(decode=False)}))
    assert ours[0] == theirs[0]
    buffer = io.BytesIO()
    ours.to_json(buffer)
    assert buffer.getvalue() == _theirs(theirs)
    frame = pl.DataFrame({"c": [["1", '{"k":[1]}'], None]})
    lines = frame.select(json_line(Features({"c": List(Json(decode=False))})))
    assert lines.to_series().to_list() == ['{"c":[1,{"k":[1]}]}', '{"c":null}']


def test_value_looking_like_the_placeholder_is_kept() -> None:
    data = {"s": ['"crucible-json-0"', "crucible-json-"], "c": ["1", "2"]}
    ds = cp.Dataset.from_polars(
        pl.DataFrame(data), features=Features({"s": Value("string"), "c": Json()})
    )
    buffer = io.BytesIO()
    ds.to_json(buffer)
    rows = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert rows == [{"s": '"crucible-json-0"', "c": 1}, {"s": "crucible-json-", "c": 2}]


def test_unknown_options_with_json_values_raise(pair: tuple[cp.Dataset, Any]) -> None:
    ours, _ = pair
    with pytest.raises(TypeError, match="not_an_option"):
        ours.to_json(io.BytesIO(), not_an_option=1)
    with pytest.raises(NotImplementedError, match="compression"):  # as datasets: a path only
        ours.to_json(io.BytesIO(), lines=False, compression="gzip")


def test_with_a_progress_bar_the_bytes_are_the_same(
    pair: tuple[cp.Dataset, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = pair
    cp.enable_progress_bars()
    try:
        ours.to_json(tmp_path / "lines.jsonl")
        ours.to_json(tmp_path / "array.json", lines=False)
    finally:
        progress._state["disabled"] = None  # back to what the environment says
    assert "Creating json from Arrow format" in capsys.readouterr().err
    assert (tmp_path / "lines.jsonl").read_bytes() == _theirs(theirs)
    assert (tmp_path / "array.json").read_bytes() == _theirs(theirs, lines=False)
