"""Reader options, JSON and CSV edge cases: differential against ``datasets`` (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import crucible_polars as cp


def _hf(fmt: str, files: Any, **kwargs: Any) -> tuple[Any, ...]:
    import datasets

    if "features" in kwargs:
        kwargs["features"] = datasets.Features.from_dict(kwargs["features"].to_dict())
    try:
        ds = datasets.load_dataset(fmt, data_files=files, split="train", **kwargs)
    except TypeError:
        return ("TypeError",)
    return ds.features.to_dict(), ds.column_names, ds.to_list()


def _ours(fmt: str, files: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        ds = cp.load_dataset(fmt, data_files=files, split="train", **kwargs)
    except TypeError:
        return ("TypeError",)
    return ds.features.to_dict(), ds.column_names, ds.to_list()


def _same(fmt: str, files: Any, **kwargs: Any) -> None:
    assert _ours(fmt, files, **kwargs) == _hf(fmt, files, **kwargs)


CSV_CASES: list[tuple[str, dict[str, Any]]] = [
    ("1,x\n2,y\n", {"column_names": ["a", "b"]}),
    ("1,x\n2,y\n", {"names": ["a", "b"]}),
    ("a,b\n1,x\n2,y\n", {"names": ["p", "q"], "header": 0}),
    ("1,x\n2,y\n", {"header": None}),
    ("junk\na,b\n1,x\n", {"skiprows": 1}),
    ("a,b\n1,x\n2,y\n3,z\n", {"nrows": 2}),
    ("a,b\n1,NA\n2,\n3,None\n4,x\n", {}),
    ("a,b\n1,NA\n2,\n3,x\n", {"keep_default_na": False}),
    ("a,b\n1,x\n2,-\n3,y\n", {"na_values": ["-"]}),
    ("a;b\n1;x\n", {"sep": ";"}),
    ("a;b\n1;x\n", {"delimiter": ";"}),
    ("a,b\n1,'x,y'\n", {"quotechar": "'"}),
    ("# note\na,b\n1,x\n", {"comment": "#"}),
    ("a,b\n1,2\n3,4,5\n6,7\n", {"on_bad_lines": "skip"}),
    ("a,b\n1,x\n", {"sepp": "\t"}),
    ("a,b\n1,x\n", {"dtype": {"a": str}}),
    ("a,b\n1,x\n", {"chunksize": 5}),
    ("a,b\n1,x\n", {"encoding": "utf-8", "header": "infer"}),
]


@pytest.mark.parametrize(("content", "kwargs"), CSV_CASES)
def test_csv_options_match_datasets(content: str, kwargs: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(content)
    _same("csv", str(path), **kwargs)


def test_csv_encoding_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\ncafé,1\n".encode("latin-1"))
    _same("csv", str(path), encoding="latin-1")


def test_csv_option_datasets_takes_but_we_do_not_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,x\n")
    with pytest.raises(ValueError, match=r"converters=.*not supported"):
        cp.load_dataset("csv", data_files=str(path), converters={"a": str})
    with pytest.raises(ValueError, match=r"converters=.*not supported"):
        cp.load_dataset("csv", data_files=str(path), converters={"a": str}, streaming=True)


def test_unknown_option_names_it_and_lists_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    with pytest.raises(TypeError, match=r"'sepp'.*Valid options: .*\bsep\b"):
        cp.load_dataset("csv", data_files=str(path), sepp="\t")
    with pytest.raises(TypeError, match="not_an_option"):
        cp.load_dataset(str(tmp_path), not_an_option=1)
    with pytest.raises(TypeError, match="not_an_option"):
        cp.load_dataset(str(tmp_path), not_an_option=1, streaming=True)


TEXT = "a\r\nb\n\nc\n\n\nd"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"keep_linebreaks": True},
        {"sample_by": "paragraph"},
        {"sample_by": "document"},
        {"sample_by": "document", "keep_linebreaks": True},
        {"encoding": "latin-1"},
        {"linebreaks": True},
    ],
)
def test_text_options_match_datasets(kwargs: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(TEXT.encode())
    (tmp_path / "b.txt").write_text("x\n\ny\n")
    _same("text", [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")], **kwargs)


def test_text_loader_with_image_feature_names_the_column(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (2, 3)).save(tmp_path / "x.png")
    (tmp_path / "paths.txt").write_text(f"{tmp_path / 'x.png'}\n")
    ds = cp.load_dataset(
        "text",
        data_files=str(tmp_path / "paths.txt"),
        split="train",
        features=cp.Features({"image": cp.Image()}),
    )
    assert ds.column_names == ["image"]
    assert ds[0]["image"].size == (2, 3)


JSON_CASES: dict[str, bytes] = {
    "bom.jsonl": b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n',
    "strings.json": b'["x", "y"]',
    "dates.jsonl": b'{"d": "2025-06-01T00:00:00"}\n{"d": "2025-06-02 10:30:00"}\n',
    "day.jsonl": b'{"d": "2025-06-01"}\n{"d": null}\n',
    "utc.jsonl": b'{"d": "2025-06-01T00:00:00Z"}\n',
    "fraction.jsonl": b'{"d": "2025-06-01T00:00:00.123+02:00"}\n',
    "not-dates.jsonl": b'{"d": "2025-06-01"}\n{"d": "soon"}\n',
    "mixed.json": b'[{"c": 1}, {"c": "x"}]',
}


@pytest.mark.parametrize("name", sorted(JSON_CASES))
def test_json_files_match_datasets(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(JSON_CASES[name])
    _same("json", str(path))


def test_json_field_with_strings_and_missing_feature_columns(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text('{"data": ["x", "y"]}')
    _same("json", str(tmp_path / "f.json"), field="data")
    (tmp_path / "a.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    features = cp.Features(
        {"a": cp.Value("int32"), "b": cp.Value("string"), "c": cp.List(cp.Value("int64"))}
    )
    _same("json", str(tmp_path / "a.jsonl"), features=features)
    _same("json", str(tmp_path / "a.jsonl"), fieldd="data")


@pytest.mark.parametrize(
    "filters",
    [
        [("a", ">", 1), ("b", "in", ["y", "q"])],
        [[("a", "=", 1)], [("b", "==", "z")]],
        [("b", "not in", ["x"]), ("a", "<=", 2)],
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
def test_parquet_filters_in_pyarrow_form_match_datasets(
    filters: list[Any], streaming: bool, tmp_path: Path
) -> None:
    import datasets
    import polars as pl

    path = str(tmp_path / "f.parquet")
    pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).write_parquet(path)
    theirs = datasets.load_dataset("parquet", data_files=path, split="train", filters=filters)
    ours = cp.load_dataset(
        "parquet", data_files=path, split="train", filters=filters, streaming=streaming
    )
    assert list(ours) == list(theirs)
    with pytest.raises(TypeError, match="filters="):
        cp.load_dataset("parquet", data_files=path, filters=[("a", "~", 1)])


def test_datasets_load_arguments_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n')
    ds = cp.load_dataset(
        "json",
        data_files=str(path),
        split="train",
        num_proc=2,
        keep_in_memory=True,
        verification_mode="no_checks",
    )
    assert ds["a"] == [1]
    assert cp.Dataset.from_json(str(path), keep_in_memory=True, cache_dir=str(tmp_path))["a"] == [1]
    with pytest.raises(ValueError, match="save_infos"):
        cp.load_dataset("json", data_files=str(path), save_infos=True)
