"""Bad local input (issue 11's last bullet, issue 13): every file either loads correctly or
fails with an error naming the file (and the line, where knowable) and what to do."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

import crucible_polars as cp


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pl.DataFrame({"a": list(range(100))}).write_parquet(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class Case:
    """A bad file: its name, content, format, and the line and words its error must give."""

    name: str
    content: Callable[[], bytes]
    fmt: str
    line: int | None
    says: str


CASES = [
    Case("truncated.parquet", lambda: _parquet_bytes()[:300], "parquet", None, "truncated"),
    Case(
        "magic.parquet",
        lambda: b"XXXX" + _parquet_bytes()[4:-4] + b"XXXX",
        "parquet",
        None,
        "corrupt",
    ),
    Case(
        "footer.parquet",
        lambda: _parquet_bytes()[:-12] + b"\0" * 8 + _parquet_bytes()[-4:],
        "parquet",
        None,
        "write it again",
    ),
    Case("empty.jsonl", lambda: b"", "json", None, "is empty"),
    Case("blank.jsonl", lambda: b"  \n\n \n", "json", None, "only whitespace"),
    Case("empty.csv", lambda: b"", "csv", None, "is empty"),
    Case("blank.csv", lambda: b"   \n\n", "csv", None, "only whitespace"),
    Case("utf8.jsonl", lambda: b'{"a": "ok"}\n{"a": "\xff\xfe"}\n', "json", 2, "encoding="),
    Case("latin1.csv", lambda: b"a,b\n1,x\n2,caf\xe9\n", "csv", 3, "encoding='latin-1'"),
    Case(
        "typechange.csv",
        lambda: ("a\n" + "\n".join(map(str, range(12_000))) + "\nhello\n").encode(),
        "csv",
        12_002,
        "features=",
    ),
    Case(
        "deep.jsonl",
        lambda: b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "json",
        1,
        "too deeply",
    ),
    Case("deep.json", lambda: b"[" * 100_000 + b"]" * 100_000, "json", None, "too deeply"),
    Case(
        "quote.csv",
        lambda: b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(38)) + b'40,"y\n41,z\n42,w\n',
        "csv",
        40,
        "never closed",
    ),
    Case("ragged.csv", lambda: b"a,b\n1,2\n3,4,5\n", "csv", 3, "fields"),
    Case("trailing.json", lambda: b'[{"a": 1}, {"a": ', "json", 1, "invalid JSON"),
    Case("badline.jsonl", lambda: b'{"a": 1}\n{"a": \n{"a": 3}\n', "json", 2, "invalid JSON"),
]


GOOD = {"parquet": _parquet_bytes, "json": lambda: b'{"a": 0}\n', "csv": lambda: b"a\n0\n"}
VARIANTS = ["alone", "second-of-split", "gzip"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_file_error_names_file_and_line(case: Case, variant: str, tmp_path: Path) -> None:
    if variant == "gzip" and case.fmt == "parquet":
        pytest.skip("parquet files are not compressed as a whole")
    path = tmp_path / case.name
    content = case.content()
    files = [str(path)]
    if variant == "gzip":
        path = tmp_path / f"{case.name}.gz"
        content = gzip.compress(content)
        files = [str(path)]
    if variant == "second-of-split":
        good = tmp_path / f"good.{case.name.rsplit('.', 1)[1]}"
        good.write_bytes(GOOD[case.fmt]())
        files = [str(good), str(path)]
    path.write_bytes(content)
    with pytest.raises(cp.errors.DataFileError) as err:
        cp.load_dataset(case.fmt, data_files=files, split="train").to_list()
    message = str(err.value)
    assert str(path) in message
    assert case.says in message
    assert err.value.row == case.line


def test_a_config_mixing_parquet_and_json_lines_names_the_odd_file(tmp_path: Path) -> None:
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "train-0.parquet")
    (tmp_path / "train-1.jsonl").write_text('{"a": 2}\n')
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
        '    path: ["train-0.parquet", "train-1.jsonl"]\n---\n'
    )
    with pytest.raises(cp.errors.DataFileError, match=r"train-1\.jsonl.*one format"):
        cp.load_dataset(str(tmp_path), split="train")


def test_inputs_that_load_correctly(tmp_path: Path) -> None:
    (tmp_path / "utf16.csv").write_bytes("a,b\n1,x\n2,y\n".encode("utf-16"))
    ds = cp.load_dataset("csv", data_files=str(tmp_path / "utf16.csv"), split="train")
    assert ds.to_list() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    (tmp_path / "big.jsonl").write_text('{"a": 1}\n{"a": 99999999999999999999999}\n')
    ds = cp.load_dataset("json", data_files=str(tmp_path / "big.jsonl"), split="train")
    assert ds["a"] == [1.0, 1e23]  # float64, as datasets (pyarrow) reads it
    (tmp_path / "latin1.csv").write_bytes(b"a,b\n1,caf\xe9\n")
    ds = cp.load_dataset(
        "csv", data_files=str(tmp_path / "latin1.csv"), split="train", encoding="latin-1"
    )
    assert ds["b"] == ["café"]
    typechange = tmp_path / "typechange.csv"
    typechange.write_text("a\n" + "\n".join(map(str, range(12_000))) + "\nhello\n")
    ds = cp.load_dataset(
        "csv",
        data_files=str(typechange),
        split="train",
        features=cp.Features({"a": cp.Value("string")}),
    )
    assert ds[-1] == {"a": "hello"} and len(ds) == 12_001
