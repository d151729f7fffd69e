"""``Json`` columns (a JSON column mixing types) decoded as ``datasets`` 5 decodes them: every
output format, random access, streaming, ``save_to_disk`` and parquet both ways (issue 13)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import crucible_polars as cp
from crucible_polars.features import Json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_oracle import assert_same

FILES: dict[str, bytes] = {
    "top.jsonl": (
        b'{"c": -1, "d": 1}\n{"c": "foo", "d": 2}\n{"c": [1, 2], "d": 3}\n'
        b'{"c": null, "d": 4}\n{"c": {"x": 1, "u": "caf\\u00e9 a/b"}, "d": 5}\n'
    ),
    "nested.jsonl": (
        b'{"a": [1, "x"], "s": {"k": 1, "n": 0}, "t": 1}\n'
        b'{"a": [2], "s": {"k": "x", "n": 1}, "t": 1.5}\n{"a": null, "s": null, "t": 2}\n'
    ),
    "document.json": b'[{"c": 1, "d": "a"}, {"c": "x", "d": "b"}, {"c": 2.5, "d": "c"}]',
    "bools.jsonl": b'{"c": true}\n{"c": 1}\n{"c": [true, 1]}\n',
}


def _load(lib: Any, name: str, folder: Path, **kwargs: Any) -> Any:
    path = folder / name
    path.write_bytes(FILES[name])
    return lib.load_dataset("json", data_files=str(path), split="train", **kwargs)


@pytest.fixture(params=sorted(FILES))
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[cp.Dataset, Any]:
    import datasets

    name = request.param
    return _load(cp, name, tmp_path), _load(datasets, name, tmp_path)


def test_features_and_python_rows_match_datasets(pair: tuple[cp.Dataset, Any]) -> None:
    ours, theirs = pair
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert "Json" in json.dumps(ours.features.to_dict())
    assert ours.to_list() == theirs.to_list()
    assert list(ours) == list(theirs)
    assert ours.to_dict() == theirs.to_dict()
    for i in range(len(theirs)):
        assert_same(ours[i], theirs[i], f"row {i}")
    assert_same(ours[1:3], theirs[1:3], "slice")
    for column in theirs.column_names:
        assert ours[column] == theirs[column][:], column


def test_rows_by_position_are_decoded(pair: tuple[cp.Dataset, Any]) -> None:
    ours, theirs = pair
    order = list(reversed(range(len(theirs))))
    assert ours.select(order).to_list() == theirs.select(order).to_list()
    shuffled, shuffled_theirs = ours.shuffle(seed=3), theirs.shuffle(seed=3)
    assert shuffled[0] == shuffled_theirs[0]  # the materialized rows' fast path
    assert shuffled.to_list() == shuffled_theirs.to_list()
    assert shuffled[0] == shuffled_theirs[0]


@pytest.mark.parametrize("fmt", ["numpy", "torch", "pandas"])
def test_output_formats_match_datasets(pair: tuple[cp.Dataset, Any], fmt: str) -> None:
    ours, theirs = pair
    ours, theirs = ours.with_format(fmt), theirs.with_format(fmt)
    if fmt == "pandas":
        assert ours[:].to_dict("list") == theirs[:].to_dict("list")
        assert ours.to_pandas().to_dict("list") == theirs.to_pandas().to_dict("list")
        return
    for i in range(len(theirs)):
        assert_same(ours[i], theirs[i], f"{fmt} row {i}")
    assert_same(ours[:], theirs[:], f"{fmt} batch")
    assert_same(ours[:1], theirs[:1], f"{fmt} one-row batch")
    assert_same(list(ours), list(theirs), f"{fmt} iteration")
    assert_same(list(ours.iter(batch_size=2)), list(theirs.iter(batch_size=2)), f"{fmt} batches")


def test_arrow_format_keeps_the_json_text(pair: tuple[cp.Dataset, Any]) -> None:
    ours, theirs = pair
    table, expected = ours.with_format("arrow")[:], theirs.with_format("arrow")[:]
    assert table.schema.remove_metadata() == expected.schema.remove_metadata()
    assert table.to_pylist() == expected.to_pylist()  # the JSON text, byte for byte


def test_polars_format_keeps_the_json_text(tmp_path: Path) -> None:
    ours = _load(cp, "top.jsonl", tmp_path)
    assert ours.with_format("polars")[:2]["c"].to_list() == ["-1", '"foo"']


@pytest.mark.parametrize("name", ["top.jsonl", "document.json", "nested.jsonl"])
def test_map_sees_and_returns_values(name: str, tmp_path: Path) -> None:
    import datasets

    ours, theirs = _load(cp, name, tmp_path), _load(datasets, name, tmp_path)
    mapped, mapped_theirs = ours.map(lambda row: row), theirs.map(lambda row: row)
    assert mapped.features.to_dict() == mapped_theirs.features.to_dict()
    assert mapped.to_list() == mapped_theirs.to_list()


def test_from_dict_with_json_features_matches_datasets() -> None:
    import datasets

    rows = {
        "a": [[{"b": 0}, {"c": "x/y"}]],
        "j": [
            "not json",
        ],
    }
    features = {"a": {"feature": {"_type": "Json"}, "_type": "List"}, "j": {"_type": "Json"}}
    ours = cp.Dataset.from_dict(rows, features=cp.Features.from_dict(features))
    theirs = datasets.Dataset.from_dict(rows, features=datasets.Features.from_dict(features))
    assert ours.to_list() == theirs.to_list() == [{"a": [{"b": 0}, {"c": "x/y"}], "j": "not json"}]
    assert ours.with_format("arrow")[:].to_pylist() == theirs.with_format("arrow")[:].to_pylist()


def test_field_of_a_document_mixing_types(tmp_path: Path) -> None:
    """``datasets`` fails on it (pandas to Arrow); we load the same Json column as for JSON
    lines (see docs/migrating-from-datasets.md)."""
    path = tmp_path / "field.json"
    path.write_text('{"data": [{"c": "1"}, {"c": 0}], "meta": 1}')
    for streaming in (False, True):
        ds = cp.load_dataset("json", data_files=str(path), field="data", streaming=streaming)
        assert ds["train"].features == cp.Features({"c": Json()})
        assert list(ds["train"]) == [{"c": "1"}, {"c": 0}]


def test_streaming_matches_datasets_streaming(tmp_path: Path) -> None:
    import datasets

    for name in FILES:
        ours = _load(cp, name, tmp_path, streaming=True)
        theirs = _load(datasets, name, tmp_path, streaming=True)
        expected = list(theirs)  # consumed to the end
        if name == "document.json":  # datasets streams a JSON document's mixed values as
            # JSON text (its load decodes them, as we do in both modes; see the docs)
            assert [r["c"] for r in expected] == ["1", '"x"', "2.5"]
            assert list(ours) == _load(datasets, name, tmp_path).to_list()
            continue
        assert ours.features.to_dict() == theirs.features.to_dict(), name
        assert list(ours) == expected, name
        numpy_rows = list(theirs.with_format("numpy"))
        if name != "nested.jsonl":  # a struct with a null row: numpy rows of a streamed batch
            # give its ints as floats (any struct column, not only Json; datasets formats
            # each row alone)
            assert_same(list(ours.with_format("numpy")), numpy_rows, name)
        assert list(ours) == _load(cp, name, tmp_path).to_list(), name


def test_streaming_json_lines_across_chunks_and_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crucible_polars.streaming.lines as lines

    monkeypatch.setattr(lines, "CHUNK_BYTES", 64)
    monkeypatch.setattr(lines, "FIRST_CHUNK_BYTES", 16)
    monkeypatch.setattr(lines, "HEAD_MAX_BYTES", 0)  # every chunk parsed by the stream
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(
            json.dumps({"c": i if i % 3 else f"s{i}", "l": [i, "x"], "t": "2025-06-01"}) + "\n"
            for i in range(50)
        )
    )
    loaded = cp.load_dataset("json", data_files=str(path), split="train")
    stream = cp.load_dataset("json", data_files=str(path), split="train", streaming=True)
    assert stream.features == loaded.features
    assert list(stream) == loaded.to_list()
    rows = iter(stream)
    first = [next(rows) for _ in range(17)]
    state = stream.state_dict()
    again = cp.load_dataset("json", data_files=str(path), split="train", streaming=True)
    again.load_state_dict(state)
    assert first + list(again) == loaded.to_list()


def test_save_to_disk_both_ways(pair: tuple[cp.Dataset, Any], tmp_path: Path) -> None:
    import datasets

    ours, theirs = pair
    ours.save_to_disk(tmp_path / "ours")
    theirs.save_to_disk(str(tmp_path / "theirs"))
    for back in (
        datasets.load_from_disk(str(tmp_path / "ours")),
        cp.load_from_disk(tmp_path / "ours"),
    ):
        assert back.features.to_dict() == theirs.features.to_dict()
        assert back.to_list() == theirs.to_list()
    back = cp.load_from_disk(tmp_path / "theirs")
    assert back.features.to_dict() == theirs.features.to_dict()
    assert back.to_list() == theirs.to_list()
    cp.DatasetDict(train=ours).save_to_disk(tmp_path / "dict")
    assert datasets.load_from_disk(str(tmp_path / "dict"))["train"].to_list() == theirs.to_list()


def test_parquet_round_trip_keeps_the_json_feature(
    pair: tuple[cp.Dataset, Any], tmp_path: Path
) -> None:
    import datasets

    ours, theirs = pair
    ours.to_parquet(tmp_path / "ours.parquet")
    theirs.to_parquet(str(tmp_path / "theirs.parquet"))
    stored = json.loads(pq.read_schema(tmp_path / "ours.parquet").metadata[b"huggingface"])
    assert stored["info"]["features"] == theirs.features.to_dict()
    for name in ("ours.parquet", "theirs.parquet"):
        files = str(tmp_path / name)
        for lib in (cp, datasets):
            back = lib.load_dataset("parquet", data_files=files, split="train")
            assert back.features.to_dict() == theirs.features.to_dict(), (name, lib.__name__)
            assert back.to_list() == theirs.to_list(), (name, lib.__name__)
        stream = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
        assert list(stream) == theirs.to_list(), name
