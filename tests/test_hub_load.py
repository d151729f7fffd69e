"""Loading from the Hub: the real ``huggingface_hub`` client against the local test Hub.

Layouts copied from real repositories (``tests/hub_repos.py``) are served by the ``hub``
fixture on ``HF_ENDPOINT``; ``datasets`` 5.2 loads the same repositories from the same server
as the oracle (same configs, splits, rows, order and Features). The server's request
counters show what was fetched. Each test uses its own repo ids and, where it counts
downloads, its own cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars.errors import (
    ConfigNotFoundError,
    DatasetNotFoundError,
    HubAccessError,
    LoadingScriptError,
    SplitNotFoundError,
)
from crucible_polars.resolve.load_plan import resolve_load
from crucible_polars.sources.hub import HubSource, hub_source_for
from crucible_polars.testing.hub_server import HubServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hub_repos

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_crucible_gated_secret_0123456789"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


Summary = dict[str, tuple[dict[str, Any], list[str], list[dict[str, Any]]]]


def ours(repo_id: str, cache_dir: Path, **kwargs: Any) -> Summary:
    dsd = cp.load_dataset(repo_id, cache_dir=cache_dir, **kwargs)
    return {s: (ds.features.to_dict(), ds.column_names, ds.to_list()) for s, ds in dsd.items()}


def theirs(repo_id: str, **kwargs: Any) -> Summary:
    import datasets

    dsd = datasets.load_dataset(repo_id, **kwargs)
    return {s: (ds.features.to_dict(), ds.column_names, ds.to_list()) for s, ds in dsd.items()}


def assert_same(mine: Summary, reference: Summary) -> None:
    assert list(mine) == list(reference)
    for split in reference:
        assert mine[split][0] == reference[split][0], split  # Features
        assert mine[split][1] == reference[split][1], split  # columns, in order
        assert mine[split][2] == reference[split][2], split  # rows, in order


def data_requests(hub: HubServer, repo_id: str) -> list[str]:
    """Paths of the file downloads (GET resolve) the server answered for ``repo_id``."""
    return [
        r.path.split("/resolve/", 1)[1].split("/", 1)[1]
        for r in hub.requests
        if r.route == "resolve" and r.method == "GET" and r.repo_id == repo_id
    ]


def run_python(
    code: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --------------------------------------------------------------------------------------------
# layouts of real repositories, differential against datasets
# --------------------------------------------------------------------------------------------


def test_gsm8k_matches_datasets(hub: HubServer, tmp_path: Path, gsm8k_dir: Path) -> None:
    import datasets

    repo = "openai-t1/gsm8k"
    hub_repos.add_gsm8k(hub, repo)
    names = cp.hub.get_dataset_config_names(repo, cache_dir=tmp_path)
    assert names == datasets.get_dataset_config_names(repo) == ["main", "socratic"]
    for config in names:
        splits = cp.hub.get_dataset_split_names(repo, config, cache_dir=tmp_path)
        assert splits == datasets.get_dataset_split_names(repo, config) == ["train", "test"]
        assert_same(ours(repo, tmp_path, name=config), theirs(repo, name=config))
    main = cp.load_dataset(repo, "main", cache_dir=tmp_path)
    assert main.num_rows == {"train": 7473, "test": 1319}
    # Scanned in place in the huggingface_hub cache: no second copy.
    lf_plan = main["test"].lazy().explain()
    assert f"{tmp_path}/datasets--openai-t1--gsm8k/snapshots/" in lf_plan


def test_mmlu_like_many_yaml_configs_match_datasets(hub: HubServer, tmp_path: Path) -> None:
    import datasets

    repo = "cais-t/mmlu"
    hub_repos.add_mmlu(hub, repo)
    expected = hub_repos.mmlu_config_names()
    assert cp.hub.get_dataset_config_names(repo, cache_dir=tmp_path) == expected
    assert datasets.get_dataset_config_names(repo) == expected
    assert cp.hub.get_dataset_split_names(repo, "all", cache_dir=tmp_path) == [
        "test",
        "validation",
        "dev",
        "auxiliary_train",
    ]
    assert datasets.get_dataset_split_names(repo, "all") == [
        "test",
        "validation",
        "dev",
        "auxiliary_train",
    ]
    # astronomy's parquet files carry no "huggingface" metadata: its ClassLabel comes from
    # the README's dataset_info, for datasets and for us.
    for config in ("all", "auxiliary_train", hub_repos.MMLU_NO_METADATA_CONFIG):
        assert_same(ours(repo, tmp_path, name=config), theirs(repo, name=config))
    astronomy = cp.load_dataset(repo, "astronomy", split="test", cache_dir=tmp_path)
    assert astronomy.features["answer"] == cp.ClassLabel(names=["A", "B", "C", "D"])

    with pytest.raises(ConfigNotFoundError, match="Config name is missing") as missing:
        cp.load_dataset(repo, cache_dir=tmp_path)
    assert missing.value.available == expected
    with pytest.raises(ValueError, match="Config name is missing"):
        datasets.load_dataset(repo)
    with pytest.raises(ConfigNotFoundError, match="abstract_algebra, all, anatomy"):
        cp.load_dataset(repo, "virology", cache_dir=tmp_path)


def test_only_the_requested_config_and_split_are_downloaded(hub: HubServer, tmp_path: Path) -> None:
    repo = "cais-t2/mmlu"
    hub_repos.add_mmlu(hub, repo)
    hub.reset_counters()
    ds = cp.load_dataset(repo, "anatomy", split="dev[:1]", cache_dir=tmp_path)
    assert len(ds) == 1
    assert data_requests(hub, repo) == ["README.md", "anatomy/dev-00000-of-00001.parquet"]
    with pytest.raises(SplitNotFoundError, match=r"\['test', 'validation', 'dev'\]"):
        cp.load_dataset(repo, "anatomy", split="train", cache_dir=tmp_path)
    assert data_requests(hub, repo) == ["README.md", "anatomy/dev-00000-of-00001.parquet"]


def test_hh_rlhf_like_subfolders_match_datasets(hub: HubServer, tmp_path: Path) -> None:
    import datasets

    repo = "anthropic-t/hh-rlhf"
    hub_repos.add_hh_rlhf(hub, repo)
    hub.page_size = 3  # the tree listing comes in pages (Link headers)
    assert cp.hub.get_dataset_config_names(repo, cache_dir=tmp_path) == ["default"]
    assert datasets.get_dataset_config_names(repo) == ["default"]
    assert cp.hub.get_dataset_split_names(repo, cache_dir=tmp_path) == ["train", "test"]
    assert_same(ours(repo, tmp_path), theirs(repo))
    for data_dir in ("harmless-base", "red-team-attempts"):
        assert_same(ours(repo, tmp_path, data_dir=data_dir), theirs(repo, data_dir=data_dir))


def test_script_only_repo_loads_the_parquet_branch_without_the_script(
    hub: HubServer, tmp_path: Path
) -> None:
    import datasets

    repo = "legacy-t/squadish"
    hub_repos.add_script_only(hub, repo)
    hub.reset_counters()
    # The Hub's own description of its parquet conversion is the oracle for configs/splits.
    from huggingface_hub import get_session

    exported = get_session().get(f"{hub.url}/api/datasets/{repo}/parquet").json()
    names = cp.hub.get_dataset_config_names(repo, cache_dir=tmp_path)
    assert names == sorted(exported) == ["extra", "plain_text"]
    for config in names:
        splits = cp.hub.get_dataset_split_names(repo, config, cache_dir=tmp_path)
        assert sorted(splits) == sorted(exported[config])
        base = f"hf://datasets/{repo}@refs%2Fconvert%2Fparquet/{config}"
        files = {s: f"{base}/{s}/*.parquet" for s in splits}
        assert_same(
            ours(repo, tmp_path, name=config),
            theirs("parquet", data_files=files),  # datasets' reader on the same files
        )
    plain = cp.load_dataset(repo, "plain_text", split="train", cache_dir=tmp_path)
    assert len(plain) == 6 and plain.features["label"] == cp.ClassLabel(names=["neg", "pos"])
    # The script was never fetched (not even a HEAD), let alone run.
    assert not [r for r in hub.requests if r.path.endswith(".py")]
    # datasets 5.2 refuses the repository (it finds the script and stops).
    with pytest.raises(RuntimeError, match="scripts are no longer supported"):
        datasets.load_dataset(repo)

    bare = "legacy-t/no-conversion"
    hub_repos.add_script_only(hub, bare, parquet_branch=False)
    with pytest.raises(LoadingScriptError, match=r"no-conversion\.py") as err:
        cp.load_dataset(bare, cache_dir=tmp_path)
    assert isinstance(err.value, RuntimeError) and err.value.repo_id == bare


def test_pinned_revision_gives_the_old_rows(hub: HubServer, tmp_path: Path) -> None:

    repo = "moving-t/data"
    old, new = hub_repos.add_moving_repo(hub, repo)
    for revision, rows in ((old, [1, 2, 3]), ("v1", [1, 2, 3]), (None, [10, 20]), (new, [10, 20])):
        ds = cp.load_dataset(repo, split="train", revision=revision, cache_dir=tmp_path)
        assert ds["x"] == rows, revision
    assert_same(ours(repo, tmp_path, revision=old), theirs(repo, revision=old))
    with pytest.raises(DatasetNotFoundError, match="main, v1") as err:
        cp.load_dataset(repo, revision="v9", cache_dir=tmp_path)
    assert err.value.revision == "v9"


def test_unknown_repo_names_it(hub: HubServer, tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="nobody-t/nothing") as err:
        cp.load_dataset("nobody-t/nothing", cache_dir=tmp_path)
    assert isinstance(err.value, FileNotFoundError)


# --------------------------------------------------------------------------------------------
# tokens and gated repositories
# --------------------------------------------------------------------------------------------


def _assert_token_hidden(err: BaseException) -> None:
    text = "".join(traceback.format_exception(err)) + repr(err) + str(err)
    assert TOKEN not in text


def test_gated_repo_needs_a_token_that_never_shows(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    repo = "gated-t/prompts"
    hub_repos.add_gated(hub, repo, TOKEN)
    with pytest.raises(HubAccessError) as err:
        cp.load_dataset(repo, cache_dir=tmp_path)
    message = str(err.value)
    assert repo in message and "token=" in message and "HF_TOKEN" in message
    assert "hf auth login" in message and isinstance(err.value, PermissionError)
    with pytest.raises(HubAccessError) as wrong:
        cp.load_dataset(repo, token=TOKEN[::-1], cache_dir=tmp_path)
    _assert_token_hidden(wrong.value)

    ds = cp.load_dataset(repo, split="train", token=TOKEN, cache_dir=tmp_path)
    assert ds.to_dict() == {"prompt": ["a", "b", "c"], "score": [1, 2, 3]}
    assert TOKEN not in repr(ds) + repr(ds.info)
    assert_same(ours(repo, tmp_path, token=TOKEN), theirs(repo, token=TOKEN))

    monkeypatch.setenv("HF_TOKEN", TOKEN)  # token from the environment
    assert len(cp.load_dataset(repo, split="train", cache_dir=tmp_path / "env")) == 3
    source = hub_source_for(repo, token=TOKEN)
    assert source is not None and TOKEN not in repr(source)


# --------------------------------------------------------------------------------------------
# cache: second load, force_redownload, offline, concurrent processes
# --------------------------------------------------------------------------------------------


def test_second_load_downloads_nothing_and_force_redownload_does(
    hub: HubServer, tmp_path: Path
) -> None:
    repo = "openai-t2/gsm8k"
    hub_repos.add_gsm8k(hub, repo)
    first = cp.load_dataset(repo, "socratic", cache_dir=tmp_path)
    hub.reset_counters()
    second = cp.load_dataset(repo, "socratic", cache_dir=tmp_path)
    assert second.num_rows == first.num_rows
    assert hub.count(route="resolve") == 0  # no HEAD, no GET: files pinned to a cached commit
    assert [r.route for r in hub.requests] == ["info"]  # only "where does main point now?"

    hub.reset_counters()
    cp.load_dataset(repo, "socratic", cache_dir=tmp_path, download_mode="force_redownload")
    assert sorted(data_requests(hub, repo)) == [
        "README.md",
        "socratic/test-00000-of-00001.parquet",
        "socratic/train-00000-of-00001.parquet",
    ]


OFFLINE_SCRIPT = """
    import json, sys
    import crucible_polars as cp
    from crucible_polars.errors import OfflineCacheMissError
    repo, cache = sys.argv[1], sys.argv[2]
    out = {"rows": cp.load_dataset(repo, "main", split="test", cache_dir=cache).num_rows}
    try:
        cp.load_dataset(repo, "main", split="train", cache_dir=cache)
    except OfflineCacheMissError as err:
        out["missing"] = err.missing
    try:
        cp.load_dataset("never-t/loaded", cache_dir=cache)
    except OfflineCacheMissError as err:
        out["never"] = str(err)
    print(json.dumps(out))
"""


def test_offline_mode_loads_from_the_cache_with_zero_requests(
    hub: HubServer, tmp_path: Path
) -> None:
    repo = "openai-t3/gsm8k"
    hub_repos.add_gsm8k(hub, repo)
    cp.load_dataset(repo, "main", split="test", cache_dir=tmp_path)
    hub.reset_counters()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OFFLINE_SCRIPT), repo, str(tmp_path)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rows"] == 1319
    assert out["missing"] == ["main/train-00000-of-00001.parquet"]
    assert "never-t/loaded" in out["never"] and "HF_HUB_OFFLINE" in out["never"]
    assert hub.requests == []


CONCURRENT_SCRIPT = """
    import sys
    import crucible_polars as cp
    dsd = cp.load_dataset(sys.argv[1], "main", cache_dir=sys.argv[2])
    print(dsd.num_rows["train"], dsd.num_rows["test"])
"""


def test_two_processes_loading_at_once_leave_one_intact_copy(
    hub: HubServer, tmp_path: Path
) -> None:
    repo = "openai-t4/gsm8k"
    hub_repos.add_gsm8k(hub, repo)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(CONCURRENT_SCRIPT), repo, str(tmp_path)],
            env=os.environ.copy(),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.split() == ["7473", "1319"]
    files = hub_repos.gsm8k_files()
    wanted = ["README.md", *(f"main/{s}-00000-of-00001.parquet" for s in ("train", "test"))]
    blobs = sorted((tmp_path / "datasets--openai-t4--gsm8k" / "blobs").iterdir())
    assert len(blobs) == len(wanted)  # one copy of each file, nothing half-written
    digests = {hashlib.sha256(files[w]).hexdigest() for w in wanted[1:]}
    assert digests <= {b.name for b in blobs}  # LFS blobs are named by their sha256 ...
    for blob in blobs:
        if blob.name in digests:  # ... and hold exactly those bytes
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


# --------------------------------------------------------------------------------------------
# streaming: URLs for Polars
# --------------------------------------------------------------------------------------------


def test_streaming_locates_urls_that_polars_scans(hub: HubServer, tmp_path: Path) -> None:
    repo = "openai-t5/gsm8k"
    hub_repos.add_gsm8k(hub, repo)
    source = hub_source_for(repo, streaming=True, cache_dir=tmp_path)
    assert isinstance(source, HubSource)
    plan = resolve_load(
        repo,
        "main",
        data_files=None,
        data_dir=None,
        streaming=True,
        cache_dir=tmp_path,
        splits=["test"],
    )
    [url] = plan.split_files["test"]
    assert url.startswith(f"{hub.url}/datasets/{repo}/resolve/{source.sha}/")
    hub.reset_counters()
    head = pl.scan_parquet(url).select("question").head(2).collect()
    assert head.height == 2
    fetched = data_requests(hub, repo)
    assert fetched and set(fetched) == {"main/test-00000-of-00001.parquet"}
    snapshot = tmp_path / "datasets--openai-t5--gsm8k" / "snapshots" / source.sha
    assert sorted(p.name for p in snapshot.iterdir()) == ["README.md"]  # no data downloaded


def test_streaming_a_gated_repo(hub: HubServer, tmp_path: Path) -> None:
    repo = "gated-t2/prompts"
    hub_repos.add_gated(hub, repo, TOKEN)
    hub.lfs_redirect = True  # LFS files redirect to a CDN, as on the Hub
    parquet = "data/train-00000-of-00001.parquet"
    source = hub_source_for(repo, streaming=True, token=TOKEN, cache_dir=tmp_path)
    assert source is not None and source.token == TOKEN and TOKEN not in repr(source)
    # locate: resolve URLs, for readers that send huggingface_hub's headers with the token.
    [url] = source.locate([parquet])
    assert url == f"{hub.url}/datasets/{repo}/resolve/{source.sha}/{parquet}"
    from huggingface_hub import get_session
    from huggingface_hub.utils import build_hf_headers

    assert get_session().get(url, headers=build_hf_headers(token=TOKEN)).status_code == 200
    # scannable: Polars sends no token, so it gets the Hub's pre-signed CDN URL instead.
    [signed] = source.scannable([parquet])
    assert "/cdn-lfs/" in signed and TOKEN not in signed
    assert pl.scan_parquet(signed).collect().to_dict(as_series=False) == {
        "prompt": ["a", "b", "c"],
        "score": [1, 2, 3],
    }
    [readme] = source.scannable(["README.md"])  # served without a redirect: downloaded
    assert Path(readme).is_file()
    anonymous = hub_source_for(repo, streaming=True, token=False, cache_dir=tmp_path)
    assert anonymous is not None
    with pytest.raises(HubAccessError, match="no token was sent"):
        anonymous.locate([parquet])


# --------------------------------------------------------------------------------------------
# cp.hub
# --------------------------------------------------------------------------------------------


def test_cp_hub_listing_and_info(hub: HubServer, tmp_path: Path) -> None:
    hub_repos.add_hh_rlhf(hub, "listing-t/hh-rlhf")
    sha = hub_repos.add_gsm8k(hub, "listing-t/gsm8k")
    found = cp.hub.list_datasets(author="listing-t")
    assert sorted(found["id"].to_list()) == ["listing-t/gsm8k", "listing-t/hh-rlhf"]
    assert cp.hub.list_datasets(search="listing-t/gsm")["id"].to_list() == ["listing-t/gsm8k"]
    assert cp.hub.list_datasets(author="listing-t", limit=1).height == 1

    files = cp.hub.list_files("listing-t/gsm8k", cache_dir=tmp_path)
    assert files == sorted(hub_repos.gsm8k_files())
    info = cp.hub.dataset_info("listing-t/gsm8k")
    assert info.sha == sha and info.card_data is not None
    sizes = {s.rfilename: s.size for s in info.siblings or []}
    assert sizes["main/test-00000-of-00001.parquet"] == len(
        hub_repos.gsm8k_files()["main/test-00000-of-00001.parquet"]
    )
    with pytest.raises(DatasetNotFoundError):
        cp.hub.dataset_info("listing-t/missing")


def test_catalog_short_names_resolve_to_repo_ids() -> None:
    from crucible_polars.resolve.load_plan import resolve_hub_source

    source = resolve_hub_source("gsm8k")
    assert source is not None and source.repo_id == "openai/gsm8k"
