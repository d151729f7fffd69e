"""``save_to_disk`` over an existing folder survives ``kill -9`` at any point: a later
``load_from_disk`` reads one whole save (the old or the new one), never a mix or a part; and
a folder that lost a shard or rows since it was saved fails with a clear error.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import crucible_polars as cp
from crucible_polars.errors import SavedDatasetError

ROOT = Path(__file__).resolve().parents[1]
ROWS = 30_000

_SAVER = """
import sys
import polars as pl
import crucible_polars as cp
folder = sys.argv[1]
version = 1
while True:
    frame = pl.DataFrame({"version": [version] * ROWS, "i": range(ROWS)})
    cp.Dataset.from_polars(frame).save_to_disk(folder, num_shards=4)
    print(version, flush=True)
    version += 1
""".replace("ROWS", str(ROWS))


def _check_whole(folder: Path) -> int:
    ds = cp.load_from_disk(folder)
    frame = ds.to_polars()
    assert len(ds) == frame.height == ROWS
    versions = frame["version"].unique().to_list()
    assert len(versions) == 1, versions
    assert frame["i"].to_list() == list(range(ROWS))
    return int(versions[0])


def test_kill_during_save_leaves_one_whole_save(tmp_path: Path) -> None:
    import polars as pl

    folder = tmp_path / "saved"
    frame = pl.DataFrame({"version": [0] * ROWS, "i": range(ROWS)})
    cp.Dataset.from_polars(frame).save_to_disk(folder, num_shards=4)
    rng = random.Random(11)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seen = set()
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # one save done: the interpreter and the imports are warm
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        seen.add(_check_whole(folder))
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "saved"]
        assert leftovers == [], leftovers  # load_from_disk cleaned what the kill left
    assert len(seen) > 1  # the kills did land on different saves


def test_a_kill_between_the_renames_keeps_the_old_save(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    cp.Dataset.from_dict({"a": [1, 2, 3]}).save_to_disk(folder)
    # what a save killed after renaming the old folder aside and before moving the new in
    os.replace(folder, tmp_path / ".saved.old-999999999-abc.tmp")
    (tmp_path / ".saved.new-999999999-abc.tmp").mkdir()
    assert cp.load_from_disk(folder)["a"] == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]


def test_a_missing_shard_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    cp.Dataset.from_dict({"a": list(range(10))}).save_to_disk(folder, num_shards=3)
    (folder / "data-00001-of-00003.arrow").unlink()
    with pytest.raises(SavedDatasetError, match=r"data-00001-of-00003\.arrow is missing"):
        cp.load_from_disk(folder)


def test_a_row_count_that_differs_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    cp.Dataset.from_dict({"a": list(range(10))}).save_to_disk(folder, num_shards=2)
    cp.Dataset.from_dict({"a": [1]}).save_to_disk(tmp_path / "one")
    shutil.copy(
        tmp_path / "one" / "data-00000-of-00001.arrow", folder / "data-00001-of-00002.arrow"
    )
    with pytest.raises(SavedDatasetError, match=r"hold 6 rows, dataset_info\.json records 10"):
        cp.load_from_disk(folder)


def test_a_dict_with_a_missing_shard_names_the_split(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    dd = cp.DatasetDict(
        train=cp.Dataset.from_dict({"a": [1, 2]}), test=cp.Dataset.from_dict({"a": [3, 4]})
    )
    dd.save_to_disk(folder, num_shards=2)
    (folder / "test" / "data-00000-of-00002.arrow").unlink()
    with pytest.raises(SavedDatasetError, match=r"saved/test' is incomplete: shard data-00000"):
        cp.load_from_disk(folder)
