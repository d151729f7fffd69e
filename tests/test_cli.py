"""The crucible-polars command line, in-process against the local test Hub."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crucible_polars.cli import main
from crucible_polars.demo import sample_path
from crucible_polars.testing.hub_server import HubServer


def _repo_id(name: str) -> str:
    return f"cli-test/{name}-{uuid.uuid4().hex[:8]}"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _gsm8k(hub: HubServer) -> str:
    repo_id = _repo_id("gsm8k")
    hub.add_repo(repo_id, sample_path())
    return repo_id


def test_console_script_help() -> None:
    script = shutil.which("crucible-polars", path=os.path.dirname(sys.executable))
    command = [script] if script else [sys.executable, "-m", "crucible_polars.cli"]
    result = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    for word in ("info", "head", "download", "cache", "catalog", "demo", "examples:"):
        assert word in result.stdout


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "cache")[0] == 2  # argparse: missing action
    code, _, err = _run(capsys, "cache", "prune")
    assert code == 1 and err.count("\n") == 1 and "--max-size" in err
    code, _, err = _run(capsys, "cache", "prune", "--max-size", "lots")
    assert code == 1 and "Invalid size 'lots'" in err and "Traceback" not in err
    assert err.startswith("crucible-polars: error: Invalid size"), "no 'ValueError:' prefix"
    assert _run(capsys, "head", "x", "-n", "0")[0] == 1


def test_info_and_head_read_only_what_they_show(
    hub: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 300_000
    table = pa.table({"x": pa.array(range(n), pa.int64()), "s": [f"row {i}" for i in range(n)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=30_000)
    repo_id = _repo_id("big")
    hub.add_repo(repo_id, {"data/train-00000-of-00001.parquet": sink.getvalue()})

    code, out, err = _run(capsys, "info", repo_id)
    assert code == 0, err
    assert "configs (1): default" in out and "features (from the parquet files' schema):" in out
    assert "train  300000  1" in out and "x: Value('int64')" in out
    assert hub.bytes_served(".parquet") < len(sink.getvalue()) / 10, "footers only"

    hub.reset_counters()
    code, out, err = _run(capsys, "head", repo_id, "-n", "3")
    assert code == 0 and "row 2" in out and "note:" not in err, "streamed"
    assert hub.bytes_served(".parquet") < len(sink.getvalue()) / 2, "a row group, not the file"
    reading = [t.name for t in threading.enumerate() if t.name == "crucible-read-ahead"]
    assert not reading, "no read goes on after the command returned"


def test_info_uses_the_card(hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    repo_id = _gsm8k(hub)
    dataset_info = """\
dataset_info:
  config_name: main
  features:
  - {name: question, dtype: string}
  - {name: answer, dtype: string}
  splits:
  - {name: train, num_examples: 200}
  - {name: test, num_examples: 50}
"""
    card = (
        (sample_path() / "README.md")
        .read_text()
        .replace("---\n# GSM8K", dataset_info + "---\n# GSM8K")
    )
    files = {
        p.relative_to(sample_path()).as_posix(): p.read_bytes()
        for p in sample_path().rglob("*")
        if p.is_file()
    }
    hub.add_revision(repo_id, "main", {**files, "README.md": card.encode()})
    hub.reset_counters()
    code, out, _ = _run(capsys, "info", repo_id, "--name", "main")
    assert code == 0
    assert "features (from the dataset card):" in out and "question: Value('string')" in out
    assert "train  200" in out and "test   50" in out
    assert hub.count("GET", ".parquet") == 0, "the card says it all"


def test_describe_a_hub_dataset(hub: HubServer) -> None:
    import crucible_polars as cp

    repo_id = _gsm8k(hub)
    hub.reset_counters()
    described = cp.hub.describe(repo_id, endpoint=hub.url)
    assert (described.repo_id, described.configs, described.config) == (repo_id, ("main",), "main")
    assert described.sha == hub.revision_sha(repo_id) and described.format == "parquet"
    assert [(s.name, s.num_rows, s.num_files) for s in described.splits] == [
        ("train", 200, 1),
        ("test", 50, 1),
    ]
    assert all(s.num_bytes > 0 for s in described.splits)
    assert described.features is not None and list(described.features) == ["question", "answer"]
    assert described.features_origin == "from the parquet files' schema"
    assert str(described).splitlines()[:2] == [
        f"{repo_id}  revision main ({described.sha[:10]})",
        "configs (1): main",
    ]


def _two_configs(folder: Path) -> Path:
    for config in ("main", "socratic"):
        shutil.copytree(sample_path() / "main", folder / config)
    (folder / "README.md").write_text(
        "---\nconfigs:\n"
        "- config_name: main\n  data_files:\n  - split: train\n    path: main/train-*\n"
        "- config_name: socratic\n  data_files:\n  - split: test\n    path: socratic/test-*\n"
        "---\n"
    )
    return folder


def test_info_on_a_local_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, "info", str(sample_path()))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("gsm8k_sample  (local)") and lines[1] == "configs (1): main"
    assert "config main: parquet files, 2 split(s)" in out and "SPLIT  ROWS  FILES  SIZE" in out
    assert "train  200   1" in out and "test   50    1" in out and "DatasetDict" not in out

    folder = _two_configs(tmp_path)
    code, out, err = _run(capsys, "info", str(folder))
    assert code == 0, err
    assert "configs (2): main, socratic" in out and "--name CONFIG" in out
    assert "SPLIT" not in out and "load_dataset" not in out
    code, out, _ = _run(capsys, "info", str(folder), "--name", "socratic")
    assert code == 0 and "config socratic: parquet files, 1 split(s)" in out and "test   50" in out
    code, _, err = _run(capsys, "info", str(folder), "--name", "nope")
    assert code == 1 and "Unknown config 'nope'" in err


def test_download_split_help_says_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "download", "--help")
    help_text = " ".join(out.split())
    assert code == 0 and "only this split (default: every split of the config)" in help_text
    assert "default: train" not in help_text


def test_info_errors(hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    repo_id = _gsm8k(hub)
    code, _, err = _run(capsys, "info", repo_id, "--name", "socratic")
    assert code == 1 and "Unknown config 'socratic'" in err and "main" in err
    code, _, err = _run(capsys, "info", "cli-test/does-not-exist")
    assert code == 1 and "doesn't exist" in err and err.count("\n") == 1

    gated = _repo_id("gated")
    hub.add_repo(gated, sample_path(), gated=True, tokens=["hf_goodtokengoodtoken"])
    code, _, err = _run(capsys, "head", gated, "--token", "hf_badtokenbadtoken123")
    assert code == 1 and "hf_badtokenbadtoken123" not in err and "Traceback" not in err
    code, out, _ = _run(capsys, "head", gated, "-n", "1", "--token", "hf_goodtokengoodtoken")
    assert code == 0 and "Natalia" in out


def test_head_prints_the_first_rows(hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    repo_id = _gsm8k(hub)
    code, out, err = _run(capsys, "head", repo_id, "-n", "2", "--split", "test", "--width", "30")
    assert code == 0, err
    assert "question" in out and "answer" in out and out.count("┆") >= 2
    code, out, _ = _run(capsys, "head", str(sample_path()), "-n", "1")
    assert code == 0 and "Natalia" in out, "a local folder works too (train by default)"


def test_download_then_manage_the_cache(
    hub: HubServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo_id = _gsm8k(hub)
    cache_dir = str(tmp_path)
    code, out, err = _run(capsys, "download", repo_id, "--split", "train", "--cache-dir", cache_dir)
    assert code == 0, err
    assert f"Downloaded {repo_id}" in out and "In the cache: 2 file(s)" in out  # README + train

    code, out, _ = _run(capsys, "cache", "info", "--cache-dir", cache_dir)
    assert code == 0 and repo_id in out and "1 dataset" in out

    code, out, _ = _run(capsys, "cache", "verify", repo_id, "--cache-dir", cache_dir)
    assert code == 0 and "2 ok, 0 corrupt" in out
    parquet = next(tmp_path.rglob("train-00000-of-00001.parquet")).resolve()
    os.chmod(parquet, 0o644)
    with parquet.open("r+b") as handle:
        handle.write(b"garbage")
    code, out, _ = _run(capsys, "cache", "verify", "--cache-dir", cache_dir)
    assert code == 1 and "CORRUPT" in out and "train-00000-of-00001.parquet" in out
    code, out, _ = _run(capsys, "cache", "verify", "--cache-dir", cache_dir, "--remove-corrupt")
    assert code == 0 and "removed" in out and not parquet.exists()

    code, out, _ = _run(
        capsys, "cache", "prune", "--max-size", "0", "--dry-run", "--cache-dir", cache_dir
    )
    assert code == 0 and "Would remove 1 revision(s)" in out
    code, _, err = _run(capsys, "cache", "clear", "--cache-dir", cache_dir)
    assert code == 1 and "--yes" in err
    code, out, _ = _run(capsys, "cache", "clear", "cli-test/nothing", "--cache-dir", cache_dir)
    assert code == 0 and "Nothing cached for 'cli-test/nothing'" in out
    code, out, _ = _run(capsys, "cache", "clear", "--yes", "--cache-dir", cache_dir)
    assert code == 0 and "Removed 1 revision(s) of 1 dataset(s)" in out
    assert "0 datasets" in _run(capsys, "cache", "info", "--cache-dir", cache_dir)[1]


def test_catalog_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "--task", "vision")
    assert code == 0 and "dpdl-benchmark/caltech101" in out and "openai/gsm8k" not in out
    code, out, _ = _run(capsys, "catalog", "hh-rlhf")
    assert (
        code == 0 and "Anthropic/hh-rlhf (preference)" in out and "columns: chosen, rejected" in out
    )
    code, _, err = _run(capsys, "catalog", "gsm8")
    assert code == 1 and "Did you mean: gsm8k?" in err


def test_demo_hub_loads_through_a_local_test_hub() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crucible_polars.cli", "demo", "--hub"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'cp.load_dataset("gsm8k")' in result.stdout and "num_rows: 200" in result.stdout
    assert "3 ok, 0 corrupt" in result.stdout and "file downloads" in result.stdout


def test_first_rows_shows_images_and_bytes_by_size() -> None:
    from PIL import Image

    from crucible_polars.cli import first_rows

    rows = iter([{"image": Image.new("RGB", (2, 3)), "raw": b"abcd", "label": 1}] * 5)
    frame = first_rows(rows, 2, streaming=True)
    assert frame.rows() == [("<image RGB 2x3>", "<4 bytes>", 1)] * 2
