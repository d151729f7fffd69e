"""Streamed frames are completed to the columns the leading expressions read, not to the whole
schema (issue 14, speed): the rows must be those of the chain run over every column.

Parquet files with a column missing from one file and a column of another (castable) type,
streamed through chains that drop, rename, select, add and filter columns, including chains
that name columns they never read; a column read that does not cast still fails with
``SchemaMismatchError``; flat numeric batches keep ``datasets``' numpy types.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars import errors
from crucible_polars.streaming.pushdown import analyze, projection, read_schema, runs_on
from crucible_polars.streaming.source import SourceNode, StreamSource

hf.disable_progress_bars()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two files: the second without ``note`` and with ``label`` as Int32 (the first file's
    schema, Int64, is the stream's)."""
    root = tmp_path_factory.mktemp("narrow")
    first = pl.DataFrame(
        {
            "id": range(0, 12),
            "label": [i % 3 for i in range(12)],
            "text": [f"t{i}" for i in range(12)],
            "note": [None if i % 4 == 0 else f"n{i}" for i in range(12)],
            "tokens": [list(range(i % 4)) for i in range(12)],
        }
    )
    second = pl.DataFrame(
        {
            "id": range(12, 21),
            "label": pl.Series([i % 3 for i in range(9)], dtype=pl.Int32),
            "text": [f"t{i}" for i in range(12, 21)],
            "tokens": [list(range(i % 2)) for i in range(9)],
        }
    )
    paths = [root / "train-0.parquet", root / "train-1.parquet"]
    first.write_parquet(paths[0], row_group_size=5)
    second.write_parquet(paths[1], row_group_size=4)
    return [str(p) for p in paths]


def whole(files: list[str]) -> pl.DataFrame:
    """Every row with every column of the first file's schema (absent ones null)."""
    schema = pl.read_parquet_schema(files[0])
    frames = [pl.read_parquet(f) for f in files]
    return pl.concat(
        [
            f.with_columns(
                [pl.lit(None, t).alias(n) for n, t in schema.items() if n not in f.columns]
            ).select([pl.col(n).cast(t) for n, t in schema.items()])
            for f in frames
        ]
    )


Chain = Callable[[Any], Any]
CHAINS: dict[str, tuple[Chain, Chain]] = {
    # (on the stream, on the whole frame)
    "select": (
        lambda ds: ds.select_columns(["label", "id"]),
        lambda df: df.select("label", "id"),
    ),
    "drop unread": (
        lambda ds: ds.remove_columns(["text", "note"]),
        lambda df: df.drop("text", "note"),
    ),
    "drop then select": (
        lambda ds: ds.remove_columns("tokens").select_columns(["id", "note"]),
        lambda df: df.select("id", "note"),
    ),
    "rename unread then select": (
        lambda ds: ds.rename_column("text", "body").select_columns(["id", "label"]),
        lambda df: df.select("id", "label"),
    ),
    "rename read": (
        lambda ds: ds.rename_columns({"note": "remark", "id": "key"}).select_columns(
            ["key", "remark"]
        ),
        lambda df: df.select(key="id", remark="note"),
    ),
    "with_columns, filter, select": (
        lambda ds: (
            ds.with_columns(double=pl.col("id") * 2)
            .filter(pl.col("label") != 1)
            .select_columns(["double", "note"])
        ),
        lambda df: (
            df.with_columns(double=pl.col("id") * 2)
            .filter(pl.col("label") != 1)
            .select("double", "note")
        ),
    ),
    "filter on a missing column": (
        lambda ds: ds.filter(pl.col("note").is_not_null()).remove_columns(["tokens", "text"]),
        lambda df: df.filter(pl.col("note").is_not_null()).drop("tokens", "text"),
    ),
    "cast then drop": (
        lambda ds: ds.cast_column("label", cp.Value("string")).remove_columns(["tokens"]),
        lambda df: df.with_columns(pl.col("label").cast(pl.String)).drop("tokens"),
    ),
    "every column": (lambda ds: ds, lambda df: df),
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_chain_gives_the_rows_of_the_whole_frame(files: list[str], name: str) -> None:
    on_stream, on_frame = CHAINS[name]
    ds = on_stream(cp.load_dataset("parquet", data_files=files, split="train", streaming=True))
    expected = on_frame(whole(files))
    assert list(ds) == expected.to_dicts()
    batches = list(ds.iter(batch_size=4, format="polars"))
    assert pl.concat(batches).to_dicts() == expected.to_dicts()
    assert [b.columns for b in batches[:1]] == [expected.columns]


@pytest.mark.parametrize("name", ["drop unread", "rename unread then select", "select"])
def test_resume_after_narrowed_reads(files: list[str], name: str) -> None:
    on_stream, on_frame = CHAINS[name]
    ds = on_stream(cp.load_dataset("parquet", data_files=files, split="train", streaming=True))
    rows = iter(ds)
    head = [next(rows) for _ in range(7)]
    state = ds.state_dict()
    rest = list(rows)
    again = on_stream(cp.load_dataset("parquet", data_files=files, split="train", streaming=True))
    again.load_state_dict(state)
    assert list(again) == rest
    assert head + rest == on_frame(whole(files)).to_dicts()


def test_frames_hold_only_the_columns_read(files: list[str]) -> None:
    """No null placeholders are built for columns a chain neither reads nor names."""
    source = StreamSource.from_files("parquet", files)
    chain = [lambda lf: lf.filter(pl.col("id") > 3).select("label")]
    node = SourceNode(source, chain)
    assert node.needs.columns is not None and set(node.needs.columns) == {"id", "label"}
    seen: list[list[str]] = []
    complete = source.complete

    def spy(frame: pl.DataFrame, path: str, schema: pl.Schema | None = None) -> pl.DataFrame:
        out = complete(frame, path, schema)
        seen.append(out.columns)
        return out

    source.complete = spy  # type: ignore[method-assign]
    frames = [f for f, _ in node.frames(None)]
    assert {tuple(c) for c in seen} == {("id", "label")}
    assert (
        pl.concat(frames)["label"].to_list()
        == whole(files).filter(pl.col("id") > 3)["label"].to_list()
    )


def test_mismatch_in_a_column_read_is_named(tmp_path: Path) -> None:
    pl.DataFrame({"x": [1, 2], "y": ["a", "b"]}).write_parquet(tmp_path / "train-0.parquet")
    pl.DataFrame({"x": ["p", "q"], "y": ["c", "d"]}).write_parquet(tmp_path / "train-1.parquet")
    files = sorted(str(p) for p in tmp_path.glob("*.parquet"))
    ds = cp.load_dataset("parquet", data_files=files, split="train", streaming=True)
    for stream in (ds, ds.select_columns(["x"]), ds.filter(pl.col("x") > 0).remove_columns("y")):
        with pytest.raises(errors.SchemaMismatchError) as info:
            list(stream)
        assert info.value.column == "x"
        assert files[1] in str(info.value)
    # a chain that never reads x reads the files as they are
    assert [r["y"] for r in ds.select_columns(["y"])] == ["a", "b", "c", "d"]


def test_pushdown_helpers() -> None:
    schema = pl.Schema({"a": pl.Int64, "b": pl.String, "c": pl.Float64})
    drop_b = [lambda lf: lf.drop("b")]
    needs = analyze(schema, drop_b)
    part = read_schema(schema, needs)
    assert part.names() == ["a", "c"]
    assert not runs_on(schema, part, drop_b)  # drop names a column it does not read
    pick = [lambda lf: lf.select(pl.nth(1))]  # by position: b in the whole, not in the part
    assert not runs_on(schema, read_schema(schema, analyze(schema, pick)), pick)
    add = [lambda lf: lf.with_columns(d=pl.col("a") + 1).select("d", "c")]
    assert runs_on(schema, read_schema(schema, analyze(schema, add)), add)
    assert projection(schema, add) is None


@pytest.mark.parametrize(
    "dtype",
    [pl.Boolean, pl.UInt8, pl.Int16, pl.UInt32, pl.Int64, pl.UInt64, pl.Float32, pl.Float64],
)
def test_flat_numeric_batches_match_datasets(tmp_path: Path, dtype: pl.DataType) -> None:
    values = [0, 1, 1, 0, 1, 2, 3, 5, 8] if dtype != pl.Boolean else [True, False] * 5
    path = tmp_path / "train.parquet"
    pl.DataFrame({"v": pl.Series(values).cast(dtype)}).write_parquet(path, row_group_size=3)
    ours = list(
        cp.load_dataset("parquet", data_files=str(path), split="train", streaming=True).iter(
            batch_size=4, format="numpy"
        )
    )
    theirs = list(
        hf.load_dataset("parquet", data_files=str(path), split="train", streaming=True)
        .with_format("numpy")
        .iter(batch_size=4)
    )
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        x, y = a["v"], b["v"]
        assert (x.dtype, x.flags.writeable) == (y.dtype, y.flags.writeable)
        np.testing.assert_array_equal(x, y)
        x[:1] = x[:1]  # writable, and the caller's own
