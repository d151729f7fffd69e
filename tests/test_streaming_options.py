"""Every reader option works the same with ``streaming=True`` (issue 13): for each option, our
load, our stream and ``datasets``' stream (consumed to the end) give the same rows, also
when the stream reads the file in small chunks."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import crucible_polars as cp

CSV_CASES: list[tuple[str, dict[str, Any]]] = [
    ("a;b\n1;x\n2;y\n", {"sep": ";"}),
    ("a;b\n1;x\n", {"delimiter": ";"}),
    ("1,x\n2,y\n", {"header": None}),
    ("a,b\n1,x\n2,y\n", {"names": ["p", "q"], "header": 0}),
    ("1,x\n2,y\n", {"names": ["a", "b"]}),
    ("1,x\n2,y\n", {"column_names": ["a", "b"]}),
    ("junk\nmore junk\na,b\n1,x\n2,y\n", {"skiprows": 2}),
    ("a,b\n1,x\n2,y\n3,z\n", {"nrows": 2}),
    ("a,b\n1,'x,y'\n2,'z'\n", {"quotechar": "'"}),
    ("a,b\n1,x\n2,-\n3,y\n", {"na_values": ["-"]}),
    ("a,b\n1,NA\n2,\n3,x\n", {"keep_default_na": False}),
    ("a,b\n1,NA\n2,\n3,x\n", {"na_filter": False}),
    ("# note\na,b\n1,x\n# c\n2,y\n", {"comment": "#"}),
    ("a,b\n1,2\n3,4,5\n6,7\n", {"on_bad_lines": "skip"}),
    ("a,b\n1,2\n3,4,5\n6,7\n", {"on_bad_lines": "warn"}),
    ("a,b\ncafé,1\n", {"encoding": "latin-1"}),
    ("a,b\ncafé,1\n", {"encoding": "ascii", "encoding_errors": "replace"}),
]

TEXT = "a\nb\r\n\nc\n\n\nd"
TEXT_CASES: list[tuple[str, dict[str, Any]]] = [
    (TEXT, {"keep_linebreaks": True}),
    (TEXT, {"sample_by": "line"}),
    (TEXT, {"sample_by": "paragraph"}),
    (TEXT, {"sample_by": "paragraph", "keep_linebreaks": True}),
    (TEXT, {"sample_by": "document"}),
    ("café\nb\n", {"encoding": "latin-1"}),
    ("café\nb\n", {"encoding": "ascii", "encoding_errors": "ignore"}),
]

JSON_CASES: list[tuple[str, dict[str, Any]]] = [
    ('{"d": [{"a": 1}, {"a": 2}]}', {"field": "d"}),
    ('{"a": "café"}\n{"a": "b"}\n', {"encoding": "latin-1"}),
    ('{"a": "café"}\n', {"encoding": "ascii", "encoding_errors": "replace"}),
]

CASES = [
    *(("csv", "data.csv", c, k) for c, k in CSV_CASES),
    *(("text", "data.txt", c, k) for c, k in TEXT_CASES),
    *(("json", "data.json", c, k) for c, k in JSON_CASES),
]


def _case_id(case: tuple[str, str, str, dict[str, Any]]) -> str:
    return f"{case[0]}-" + "-".join(f"{k}={v}" for k, v in case[3].items())


def _write(tmp_path: Path, name: str, content: str, kwargs: dict[str, Any]) -> str:
    path = tmp_path / name
    encoding = "latin-1" if kwargs.get("encoding") in ("latin-1", "ascii") else "utf-8"
    path.write_bytes(content.encode(encoding))
    return str(path)


def _rows(lib: Any, fmt: str, path: str, streaming: bool, **kwargs: Any) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # on_bad_lines="warn"
        ds = lib.load_dataset(fmt, data_files=path, split="train", streaming=streaming, **kwargs)
        return list(ds) if streaming else ds.to_list()  # a stream consumed to the end


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_option_streams_as_it_loads_and_as_datasets_streams(
    case: tuple[str, str, str, dict[str, Any]], tmp_path: Path
) -> None:
    import datasets

    fmt, name, content, kwargs = case
    path = _write(tmp_path, name, content, kwargs)
    loaded = _rows(cp, fmt, path, False, **kwargs)
    assert _rows(cp, fmt, path, True, **kwargs) == loaded
    assert _rows(datasets, fmt, path, True, **kwargs) == loaded


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_option_streams_the_same_in_small_chunks(
    case: tuple[str, str, str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crucible_polars.streaming.lines as lines

    monkeypatch.setattr(lines, "CHUNK_BYTES", 8)
    monkeypatch.setattr(lines, "FIRST_CHUNK_BYTES", 4)
    monkeypatch.setattr(lines, "HEAD_MAX_BYTES", 0)
    fmt, name, content, kwargs = case
    body = content * 20 if fmt == "text" else content
    path = _write(tmp_path, name, body, kwargs)
    assert _rows(cp, fmt, path, True, **kwargs) == _rows(cp, fmt, path, False, **kwargs)


def test_csv_options_across_many_chunks_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crucible_polars.streaming.lines as lines

    monkeypatch.setattr(lines, "CHUNK_BYTES", 64)
    monkeypatch.setattr(lines, "FIRST_CHUNK_BYTES", 16)
    lines_ = "".join(f"{i},x{i}\n" + ("# c\n" if i % 7 == 0 else "") for i in range(100))
    files = []
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("junk\n# c\na,b\n" + lines_)
        files.append(str(tmp_path / name))
    for kwargs in ({"skiprows": 1, "comment": "#"}, {"skiprows": 1, "comment": "#", "nrows": 30}):
        loaded = _rows(cp, "csv", files, False, **kwargs)  # type: ignore[arg-type]
        assert _rows(cp, "csv", files, True, **kwargs) == loaded  # type: ignore[arg-type]
        assert len(loaded) == (200 if "nrows" not in kwargs else 60)


def test_csv_features_type_the_streamed_columns(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code,n\n007,1\n010,2\n")
    features = cp.Features({"code": cp.Value("string"), "n": cp.Value("int32")})
    loaded = cp.load_dataset("csv", data_files=str(path), split="train", features=features)
    stream = cp.load_dataset(
        "csv", data_files=str(path), split="train", features=features, streaming=True
    )
    assert list(stream) == loaded.to_list() == [{"code": "007", "n": 1}, {"code": "010", "n": 2}]


@pytest.mark.parametrize("fmt", ["csv", "json", "text", "parquet"])
def test_unknown_option_is_a_type_error_when_streaming_as_in_datasets(
    fmt: str, tmp_path: Path
) -> None:
    import datasets

    path = tmp_path / "data.csv"
    path.write_text("a\n1\n")
    for lib in (cp, datasets):
        with pytest.raises(TypeError, match="not_an_option"):
            list(
                lib.load_dataset(
                    fmt, data_files=str(path), split="train", streaming=True, not_an_option=1
                )
            )


@pytest.mark.parametrize(
    ("fmt", "name", "content", "features"),
    [
        ("json", "a.jsonl", '{"a": 1}\n{"a": 2}\n', {"a": "int32", "b": "string"}),
        ("text", "t.txt", "x\ny\n", {"line": "string"}),
    ],
)
def test_features_fit_the_streamed_columns_as_datasets(
    fmt: str, name: str, content: str, features: dict[str, str], tmp_path: Path
) -> None:
    """JSON: the features' missing columns are added as nulls; text: the one column is named
    after the one feature (in a load, a stream and datasets' stream)."""
    import datasets

    path = tmp_path / name
    path.write_text(content)
    ours = cp.Features({k: cp.Value(v) for k, v in features.items()})
    theirs = datasets.Features({k: datasets.Value(v) for k, v in features.items()})
    loaded = _rows(cp, fmt, str(path), False, features=ours)
    assert _rows(cp, fmt, str(path), True, features=ours) == loaded
    assert _rows(datasets, fmt, str(path), True, features=theirs) == loaded
