"""The local test Hub, exercised through the real ``huggingface_hub`` client (no mocks).

``conftest.py`` points ``HF_ENDPOINT`` at ``127.0.0.1:TEST_HUB_PORT`` before
``huggingface_hub`` is imported, and the ``hub`` fixture serves on that port.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import get_session

from crucible_polars.testing.hub.api import HubApi
from crucible_polars.testing.hub.context import HubSettings, Request, Trace
from crucible_polars.testing.hub.repo_store import RepoStore
from crucible_polars.testing.hub_server import HubServer

REPO_ROOT = Path(__file__).resolve().parents[1]
README = b"---\nlicense: mit\npretty_name: Tiny\ntask_categories:\n- text-generation\n---\n# Tiny\n"
TRAIN = b'{"question": "1+1?", "answer": "2"}\n{"question": "2+2?", "answer": "4"}\n'
TEST = b'{"question": "3+3?", "answer": "6"}\n'
PARQUET = bytes(range(256)) * 1024  # 256 KiB, stored as an LFS file (by extension)


def tiny_files(**extra: bytes) -> dict[str, bytes]:
    return {
        "README.md": README,
        "data/train.jsonl": TRAIN,
        "data/test.jsonl": TEST,
        "data/train.parquet": PARQUET,
        **extra,
    }


def add_tiny(hub: HubServer, repo_id: str, **kwargs: Any) -> str:
    if repo_id in hub.repo_ids():
        return hub.revision_sha(repo_id)
    return hub.add_repo(repo_id, tiny_files(), **kwargs)


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_dataset_info_has_siblings_card_data_and_lfs_metadata(hub: HubServer) -> None:
    sha = add_tiny(hub, "crucible/info")
    api = HfApi()

    info = api.dataset_info("crucible/info", files_metadata=True)
    assert info.id == "crucible/info"
    assert info.sha == sha
    assert info.author == "crucible"
    assert info.private is False and info.gated is False
    assert info.card_data is not None and info.card_data.license == "mit"
    tags = info.tags or []
    assert "license:mit" in tags and "task_categories:text-generation" in tags
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert sorted(siblings) == sorted(tiny_files())
    small, big = siblings["data/train.jsonl"], siblings["data/train.parquet"]
    assert small.size == len(TRAIN) and small.blob_id == git_blob_sha1(TRAIN) and small.lfs is None
    assert big.size == len(PARQUET) and big.lfs is not None
    assert big.lfs.sha256 == hashlib.sha256(PARQUET).hexdigest()
    assert big.lfs.size == len(PARQUET) and big.lfs.pointer_size > 100

    # Without files_metadata the Hub only lists file names.
    plain = api.dataset_info("crucible/info")
    assert {s.rfilename for s in plain.siblings or []} == set(siblings)
    assert all(s.size is None for s in plain.siblings or [])
    # expand= returns just the requested fields
    expanded = api.dataset_info("crucible/info", expand=["sha", "gated"])
    assert expanded.sha == sha and expanded.siblings is None and expanded.card_data is None
    # a revision in the URL, through repo_info
    assert api.repo_info("crucible/info", repo_type="dataset", revision=sha).sha == sha


def test_list_repo_tree_paginates_with_link_headers(hub: HubServer) -> None:
    files = {f"data/part-{i:02d}.jsonl": TRAIN for i in range(7)}
    files |= {"README.md": README, "extra/nested/deep.txt": b"deep\n"}
    hub.add_repo("crucible/paged", files)
    hub.page_size = 3
    api = HfApi()

    listed = api.list_repo_files("crucible/paged", repo_type="dataset")
    assert sorted(listed) == sorted(files)
    entries = list(api.list_repo_tree("crucible/paged", repo_type="dataset", recursive=True))
    folders = {e.path for e in entries if not hasattr(e, "size")}
    assert folders == {"data", "extra", "extra/nested"}
    # 9 files + 3 folders in pages of 3, for each of the two listings
    assert hub.count("GET", "/api/datasets/crucible/paged/tree/main", route="tree") == 8
    assert any("cursor=" in r.query for r in hub.requests)

    top = list(api.list_repo_tree("crucible/paged", repo_type="dataset"))
    assert [e.path for e in top] == ["data", "extra", "README.md"]  # folders first, like the Hub
    sub = list(api.list_repo_tree("crucible/paged", "extra", repo_type="dataset", expand=True))
    assert [e.path for e in sub] == ["extra/nested"]
    assert sub[0].last_commit is not None
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree("crucible/paged", "missing", repo_type="dataset"))


def test_get_paths_info_files_folders_and_missing(hub: HubServer) -> None:
    sha = add_tiny(hub, "crucible/paths")
    api = HfApi()
    infos = api.get_paths_info(
        "crucible/paths",
        ["data", "data/train.parquet", "README.md", "does/not/exist"],
        repo_type="dataset",
        expand=True,
    )
    assert [i.path for i in infos] == ["data", "data/train.parquet", "README.md"]
    folder, parquet, readme = infos
    assert getattr(folder, "tree_id", None) and len(folder.tree_id) == 40
    assert parquet.lfs is not None and parquet.lfs.sha256 == hashlib.sha256(PARQUET).hexdigest()
    assert readme.size == len(README) and readme.blob_id == git_blob_sha1(README)
    assert readme.last_commit is not None and readme.last_commit.oid == sha
    assert api.file_exists("crucible/paths", "data/test.jsonl", repo_type="dataset")
    assert not api.file_exists("crucible/paths", "data/nope.jsonl", repo_type="dataset")


def test_hf_hub_download_small_and_lfs_files(hub: HubServer, tmp_path: Path) -> None:
    sha = add_tiny(hub, "crucible/download")
    small = hf_hub_download(
        "crucible/download", "data/train.jsonl", repo_type="dataset", cache_dir=tmp_path
    )
    big = hf_hub_download(
        "crucible/download", "data/train.parquet", repo_type="dataset", cache_dir=tmp_path
    )
    assert Path(small).read_bytes() == TRAIN
    assert Path(big).read_bytes() == PARQUET
    assert f"/snapshots/{sha}/" in Path(big).as_posix()
    # the cache names blobs by ETag: git sha1 for regular files, sha256 for LFS files
    assert Path(small).resolve().name == git_blob_sha1(TRAIN)
    assert Path(big).resolve().name == hashlib.sha256(PARQUET).hexdigest()
    assert hub.count("HEAD", "data/train.parquet") == 1
    assert hub.bytes_served("data/train.parquet", method="GET") == len(PARQUET)

    # A second call is answered from the cache after a HEAD: no new body bytes.
    hub.reset_counters()
    hf_hub_download(
        "crucible/download", "data/train.parquet", repo_type="dataset", cache_dir=tmp_path
    )
    assert hub.count("GET") == 0 and hub.bytes_served() == 0


def test_pinned_commit_keeps_serving_old_content(hub: HubServer, tmp_path: Path) -> None:
    hub.remove_repo("crucible/history")  # start from an empty history
    old = hub.add_repo("crucible/history", {"data/train.jsonl": b'{"v": 1}\n'})
    new = hub.add_repo("crucible/history", {"data/train.jsonl": b'{"v": 2}\n', "NEW.md": b"x"})
    assert old != new and len(old) == len(new) == 40
    kwargs = {"repo_type": "dataset", "cache_dir": tmp_path}
    assert Path(hf_hub_download("crucible/history", "data/train.jsonl", **kwargs)).read_bytes() == (
        b'{"v": 2}\n'
    )
    pinned = hf_hub_download("crucible/history", "data/train.jsonl", revision=old, **kwargs)
    assert Path(pinned).read_bytes() == b'{"v": 1}\n'
    api = HfApi()
    assert api.dataset_info("crucible/history", revision=old).sha == old
    assert api.list_repo_files("crucible/history", repo_type="dataset", revision=old) == [
        "data/train.jsonl"
    ]
    commits = api.list_repo_commits("crucible/history", repo_type="dataset")
    assert [c.commit_id for c in commits] == [new, old]


def test_branches_tags_and_refs_convert_parquet(hub: HubServer, tmp_path: Path) -> None:
    main = add_tiny(hub, "crucible/refs")
    converted = hub.add_revision(
        "crucible/refs",
        "refs/convert/parquet",
        {"default/train/0000.parquet": PARQUET, "default/test/0000.parquet": PARQUET[:1000]},
    )
    dev = hub.add_revision("crucible/refs", "dev", {"data/train.jsonl": TEST})
    hub.add_tag("crucible/refs", "v1.0")
    api = HfApi()

    refs = api.list_repo_refs("crucible/refs", repo_type="dataset")
    assert {(b.name, b.target_commit) for b in refs.branches} == {("main", main), ("dev", dev)}
    assert [(c.name, c.ref, c.target_commit) for c in refs.converts] == [
        ("parquet", "refs/convert/parquet", converted)
    ]
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", main)]

    assert sorted(
        api.list_repo_files("crucible/refs", repo_type="dataset", revision="refs/convert/parquet")
    ) == ["default/test/0000.parquet", "default/train/0000.parquet"]
    assert api.dataset_info("crucible/refs", revision="refs/convert/parquet").sha == converted
    path = hf_hub_download(
        "crucible/refs",
        "default/train/0000.parquet",
        repo_type="dataset",
        revision="refs/convert/parquet",  # sent url-encoded: refs%2Fconvert%2Fparquet
        cache_dir=tmp_path,
    )
    assert Path(path).read_bytes() == PARQUET
    dev_file = hf_hub_download(
        "crucible/refs", "data/train.jsonl", repo_type="dataset", revision="dev", cache_dir=tmp_path
    )
    assert Path(dev_file).read_bytes() == TEST
    tagged = hf_hub_download(
        "crucible/refs",
        "data/train.jsonl",
        repo_type="dataset",
        revision="v1.0",
        cache_dir=tmp_path,
    )
    assert Path(tagged).read_bytes() == TRAIN

    # the Hub's /parquet API lists the converted files by config and split
    listing = get_session().get(f"{hub.url}/api/datasets/crucible/refs/parquet").json()
    assert listing == {
        "default": {
            "test": [f"{hub.url}/api/datasets/crucible/refs/parquet/default/test/0.parquet"],
            "train": [f"{hub.url}/api/datasets/crucible/refs/parquet/default/train/0.parquet"],
        }
    }
    response = get_session().get(listing["default"]["train"][0])
    assert response.status_code == 200 and response.content == PARQUET


def test_list_datasets_search_author_limit(hub: HubServer) -> None:
    for name in ("alpha-math", "beta-math", "gamma-code"):
        if f"listing-org/{name}" not in hub.repo_ids():
            hub.add_repo(f"listing-org/{name}", {"data.jsonl": TRAIN})
    if "other-org/delta-math" not in hub.repo_ids():
        hub.add_repo("other-org/delta-math", {"data.jsonl": TRAIN})
    hub.list_page_size = 1
    api = HfApi()

    by_author = [d.id for d in api.list_datasets(author="listing-org")]
    assert by_author == [
        "listing-org/alpha-math",
        "listing-org/beta-math",
        "listing-org/gamma-code",
    ]
    assert hub.count("GET", "/api/datasets", route="list") == 3  # paginated one item per page
    searched = {d.id for d in api.list_datasets(search="math")}
    assert {"listing-org/alpha-math", "listing-org/beta-math", "other-org/delta-math"} <= searched
    assert not any("code" in d for d in searched)
    limited = list(api.list_datasets(search="math", limit=2))
    assert len(limited) == 2 and all(d.siblings is None for d in limited)
    assert [d.id for d in api.list_datasets(author="listing-org", search="gamma")] == [
        "listing-org/gamma-code"
    ]


def test_hffilesystem_ls_open_and_range_read(hub: HubServer) -> None:
    add_tiny(hub, "crucible/fs")
    hub.reset_counters()
    fs = HfFileSystem(skip_instance_cache=True)

    names = fs.ls("datasets/crucible/fs/data", detail=False)
    assert sorted(names) == [
        "datasets/crucible/fs/data/test.jsonl",
        "datasets/crucible/fs/data/train.jsonl",
        "datasets/crucible/fs/data/train.parquet",
    ]
    assert fs.info("datasets/crucible/fs/data/train.parquet")["size"] == len(PARQUET)
    assert fs.read_text("datasets/crucible/fs/data/test.jsonl") == TEST.decode()
    with fs.open("datasets/crucible/fs/data/train.parquet", "rb", block_size=4096) as handle:
        handle.seek(100_000)
        assert handle.read(16) == PARQUET[100_000:100_016]
    ranged = [r for r in hub.requests if r.range and "train.parquet" in r.path]
    assert ranged and all(r.status == 206 for r in ranged)
    assert hub.bytes_served("train.parquet") <= 2 * 4096 < len(PARQUET)
    # a revision given as a special ref in the path
    converted = "datasets/crucible/fs@refs%2Fconvert%2Fparquet"
    hub.add_revision("crucible/fs", "refs/convert/parquet", {"default/train/0.parquet": PARQUET})
    assert fs.ls(converted + "/default/train", detail=False) == [
        converted + "/default/train/0.parquet"
    ]


def test_gated_repo_requires_an_authorised_token(hub: HubServer, tmp_path: Path) -> None:
    token = "hf_gatedSecretToken123"
    other = "hf_someoneElse456"
    hub.add_repo("crucible/gated", tiny_files(), gated=True, tokens=[token])
    hub.add_user(other, name="someone-else")
    api = HfApi()

    # Metadata and listings stay public on a gated repo, as on the Hub.
    assert api.dataset_info("crucible/gated").gated == "auto"
    with pytest.raises(GatedRepoError) as anonymous:
        hf_hub_download("crucible/gated", "README.md", repo_type="dataset", cache_dir=tmp_path)
    assert anonymous.value.response.status_code == 401
    assert "restricted" in str(anonymous.value) and token not in str(anonymous.value)
    with pytest.raises(GatedRepoError) as outsider:
        hf_hub_download(
            "crucible/gated", "README.md", repo_type="dataset", cache_dir=tmp_path, token=other
        )
    assert outsider.value.response.status_code == 403
    assert other not in str(outsider.value) and token not in str(outsider.value)

    path = hf_hub_download(
        "crucible/gated", "data/train.jsonl", repo_type="dataset", cache_dir=tmp_path, token=token
    )
    assert Path(path).read_bytes() == TRAIN
    assert HfApi(token=token).whoami()["name"].startswith("crucible-user")
    whoami = get_session().get(
        f"{hub.url}/api/whoami-v2", headers={"Authorization": f"Bearer {token}"}
    )
    assert whoami.status_code == 200 and token not in whoami.text

    # An unknown token is rejected everywhere, without echoing it.
    with pytest.raises(HfHubHTTPError) as invalid:
        api.dataset_info("crucible/gated", token="hf_notAValidToken")
    assert invalid.value.response.status_code == 401
    assert "hf_notAValidToken" not in str(invalid.value)


def test_private_repo_is_not_found_without_token(hub: HubServer, tmp_path: Path) -> None:
    token = "hf_privateToken789"
    hub.add_repo("crucible/private", {"data.jsonl": TRAIN}, private=True, tokens=[token])
    api = HfApi()
    with pytest.raises(RepositoryNotFoundError) as error:
        api.dataset_info("crucible/private")
    assert not isinstance(error.value, GatedRepoError)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("crucible/private", "data.jsonl", repo_type="dataset", cache_dir=tmp_path)
    assert "crucible/private" not in {d.id for d in api.list_datasets(author="crucible")}

    assert HfApi(token=token).dataset_info("crucible/private").private is True
    assert "crucible/private" in {d.id for d in api.list_datasets(author="crucible", token=token)}
    path = hf_hub_download(
        "crucible/private", "data.jsonl", repo_type="dataset", cache_dir=tmp_path, token=token
    )
    assert Path(path).read_bytes() == TRAIN


def test_missing_repo_revision_and_entry_raise_hub_errors(hub: HubServer, tmp_path: Path) -> None:
    add_tiny(hub, "crucible/errors")
    api = HfApi()
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("crucible/does-not-exist")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("crucible/nope", "x.json", repo_type="dataset", cache_dir=tmp_path)
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info("crucible/errors", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            "crucible/errors",
            "README.md",
            repo_type="dataset",
            revision="0" * 40,
            cache_dir=tmp_path,
        )
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("crucible/errors", "missing.json", repo_type="dataset", cache_dir=tmp_path)
    assert api.repo_exists("crucible/errors", repo_type="dataset")
    assert not api.repo_exists("crucible/does-not-exist", repo_type="dataset")
    assert not api.revision_exists("crucible/errors", "nope", repo_type="dataset")
    entry_404 = [r for r in hub.requests if r.path.endswith("missing.json")]
    assert entry_404 and entry_404[0].status == 404 and entry_404[0].route == "resolve"


def test_resolve_headers_and_byte_ranges(hub: HubServer) -> None:
    sha = add_tiny(hub, "crucible/ranges")
    session = get_session()
    url = f"{hub.url}/datasets/crucible/ranges/resolve/main/data/train.parquet"
    sha256 = hashlib.sha256(PARQUET).hexdigest()

    head = session.head(url)
    assert head.status_code == 200
    assert head.headers["ETag"] == f'"{sha256}"' and head.headers["X-Linked-Etag"] == f'"{sha256}"'
    assert head.headers["X-Linked-Size"] == head.headers["Content-Length"] == str(len(PARQUET))
    assert head.headers["X-Repo-Commit"] == sha and head.headers["Accept-Ranges"] == "bytes"
    small = session.head(f"{hub.url}/datasets/crucible/ranges/resolve/{sha}/README.md")
    assert small.headers["ETag"] == f'"{git_blob_sha1(README)}"'
    assert "X-Linked-Etag" not in small.headers

    size = len(PARQUET)
    cases = {
        "bytes=10-19": (PARQUET[10:20], f"bytes 10-19/{size}"),
        f"bytes={size - 5}-": (PARQUET[-5:], f"bytes {size - 5}-{size - 1}/{size}"),
        "bytes=-7": (PARQUET[-7:], f"bytes {size - 7}-{size - 1}/{size}"),
        f"bytes=0-{size + 100}": (PARQUET, f"bytes 0-{size - 1}/{size}"),
    }
    for header, (body, content_range) in cases.items():
        response = session.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == body and response.headers["Content-Range"] == content_range
    unsatisfiable = session.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{size}"
    assert hub.bytes_served("train.parquet") == 10 + 5 + 7 + size + len(unsatisfiable.content)
    assert hub.count("GET", "train.parquet") == 5

    encoded = session.get(
        f"{hub.url}/api/datasets/crucible/ranges/revision/{sha}", params={"expand": "sha"}
    )
    assert encoded.json() == {"_id": encoded.json()["_id"], "id": "crucible/ranges", "sha": sha}


def test_fail_next_cuts_the_connection_and_the_client_resumes(
    hub: HubServer, tmp_path: Path
) -> None:
    add_tiny(hub, "crucible/faults")
    hub.fail_next("faults/resolve/main/data/train.parquet", after_bytes=50_000)
    path = hf_hub_download(
        "crucible/faults", "data/train.parquet", repo_type="dataset", cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == PARQUET
    gets = [r for r in hub.requests if r.method == "GET" and "train.parquet" in r.path]
    # huggingface_hub resumes in units of its 10 MB download chunk: a file cut before the first
    # full chunk is downloaded again from the start.
    assert [(g.status, g.aborted, g.bytes_sent, g.range) for g in gets] == [
        (200, True, 50_000, None),
        (200, False, len(PARQUET), None),
    ]

    # Past the first 10 MB chunk, the retry asks for the rest with a Range header.
    large = bytes(range(256)) * (46 * 1024)  # 11.5 MiB
    hub.add_repo("crucible/faults-large", {"big.bin": large})
    hub.fail_next("faults-large/resolve/main/big.bin", after_bytes=11 * 1024 * 1024)
    hub.reset_counters()
    path = hf_hub_download(
        "crucible/faults-large", "big.bin", repo_type="dataset", cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == large
    gets = [r for r in hub.requests if r.method == "GET" and "big.bin" in r.path]
    chunk = 10 * 1024 * 1024
    assert [(g.status, g.aborted, g.range) for g in gets] == [
        (200, True, None),
        (206, False, f"bytes={chunk}-"),
    ]
    assert gets[1].bytes_sent == len(large) - chunk

    hub.fail_next("/api/datasets/crucible/faults/tree", status=500)
    files = HfApi().list_repo_files("crucible/faults", repo_type="dataset")  # retried once
    assert sorted(files) == sorted(tiny_files())
    assert [r.status for r in hub.requests if r.route in ("tree", "fault")] == [500, 200]


def test_lfs_redirect_to_a_cdn_host(hub: HubServer, tmp_path: Path) -> None:
    token = "hf_cdnToken"
    add_tiny(hub, "crucible/cdn")
    hub.add_repo("crucible/cdn-gated", tiny_files(), gated=True, tokens=[token])
    hub.lfs_redirect = True
    path = hf_hub_download(
        "crucible/cdn-gated",
        "data/train.parquet",
        repo_type="dataset",
        cache_dir=tmp_path,
        token=token,
    )
    assert Path(path).read_bytes() == PARQUET
    assert Path(path).resolve().name == hashlib.sha256(PARQUET).hexdigest()
    cdn = [r for r in hub.requests if r.route == "cdn"]
    assert len(cdn) == 1 and cdn[0].bytes_sent == len(PARQUET)
    assert [r.status for r in hub.requests if r.route == "resolve"] == [302]  # HEAD only

    fs = HfFileSystem(skip_instance_cache=True)
    with fs.open("datasets/crucible/cdn/data/train.parquet", "rb", block_size=1024) as handle:
        handle.seek(5000)
        assert handle.read(8) == PARQUET[5000:5008]


def test_other_endpoints_and_unknown_routes(hub: HubServer) -> None:
    session = get_session()
    registry = session.get(f"{hub.url}/api/agent-harnesses")
    assert registry.json() == {"standardEnvVars": [], "harnesses": {}}
    unknown = session.get(f"{hub.url}/api/not-a-route")
    assert unknown.status_code == 404
    assert [r.route for r in hub.requests][-1] == "unknown"
    assert session.put(f"{hub.url}/api/datasets/crucible/x").status_code == 405
    with pytest.raises(HfHubHTTPError):
        HfApi().whoami(token="hf_unknown")


def test_standalone_server_in_a_thread_is_independent(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_bytes(TRAIN)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    with HubServer(page_size=1) as server:
        sha = server.add_repo("folder/repo", tmp_path)
        api = HfApi(endpoint=server.url)
        assert api.list_repo_files("folder/repo", repo_type="dataset") == ["data/train.jsonl"]
        path = hf_hub_download(
            "folder/repo",
            "data/train.jsonl",
            repo_type="dataset",
            cache_dir=tmp_path / "cache",
            endpoint=server.url,
        )
        assert Path(path).read_bytes() == TRAIN and f"/{sha}/" in Path(path).as_posix()

        def hammer() -> None:
            for _ in range(10):
                api.dataset_info("folder/repo")

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.count("GET", route="info") == 40
        port = server.port
    assert not server.running
    with HubServer(port=port) as again:  # the port was released
        assert again.url.endswith(f":{port}")


def test_command_line_serves_folders(tmp_path: Path) -> None:
    (tmp_path / "gsm").mkdir()
    (tmp_path / "gsm" / "train.jsonl").write_bytes(TRAIN)
    pythonpath = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": pythonpath}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crucible_polars.testing.hub_server",
            "--port",
            "0",
            "--repo",
            f"openai/gsm8k={tmp_path / 'gsm'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if line.startswith("Test Hub serving at "):
                url = line.split()[-1]
                break
        assert url is not None, process.stderr.read() if process.stderr else ""
        files = HfApi(endpoint=url).list_repo_files("openai/gsm8k", repo_type="dataset")
        assert files == ["train.jsonl"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_datasets_load_dataset_reads_from_the_test_hub(hub: HubServer, tmp_path: Path) -> None:
    hub.add_repo(
        "crucible/load-me",
        {
            "README.md": b"---\nlicense: mit\n---\n# Load me\n",
            "data/train.jsonl": TRAIN,
            "data/test.jsonl": TEST,
        },
    )
    script = textwrap.dedent(
        """
        import datasets
        ds = datasets.load_dataset("crucible/load-me", split="train")
        print(ds.num_rows, ds[1]["answer"])
        """
    )
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "datasets")}
    assert env["HF_ENDPOINT"] == hub.url
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["2", "4"]
    assert hub.count("GET", "/datasets/crucible/load-me/resolve/") >= 2
    assert hub.count(route="unknown") == 0


@pytest.mark.parametrize(
    ("method", "path", "status", "route", "repo_id", "revision"),
    [
        (
            "GET",
            "/api/datasets/demo/api/revision/refs%2Fconvert%2Fparquet",
            200,
            "info",
            "demo/api",
            "refs/convert/parquet",
        ),
        ("GET", "/api/datasets/demo/api/tree/main/data/", 200, "tree", "demo/api", "main"),
        ("GET", "/api/datasets/demo/api/refs", 200, "refs", "demo/api", None),
        ("GET", "/api/datasets/demo/api/refs/x", 404, "unknown", "demo/api", None),
        ("GET", "/api/models/demo/api/parquet", 401, "unknown", "demo/api", None),
        (
            "GET",
            "/api/datasets/demo/api/parquet/default/train",
            200,
            "parquet",
            "demo/api",
            "refs/convert/parquet",
        ),
        (
            "GET",
            "/datasets/demo/api/resolve/refs%2Fconvert%2Fparquet/default/train/0.parquet",
            200,
            "resolve",
            "demo/api",
            "refs/convert/parquet",
        ),
        ("HEAD", "/datasets/demo/api/resolve/nope/data/a.csv", 404, "resolve", "demo/api", "nope"),
        ("HEAD", "/datasets/resolve/main/data/a.csv", 404, "unknown", None, None),
        ("HEAD", "/api/datasets", 405, "unknown", None, None),
        ("HEAD", "/api/whoami-v2", 404, "unknown", None, None),
        ("POST", "/cdn-lfs/x", 405, "cdn", None, None),
        ("POST", "/datasets/demo/api/resolve/main/data/a.csv", 405, "unknown", None, None),
        ("PUT", "/api/datasets/demo/api", 405, "unknown", None, None),
    ],
)
def test_route_table_answers_without_a_socket(
    method: str, path: str, status: int, route: str, repo_id: str | None, revision: str | None
) -> None:
    """The Hub API is a function of the request: no server, no socket, the same answers."""
    store = RepoStore()
    store.add_repo("demo/api", {"data/a.csv": b"x\n1\n"})
    store.add_revision("demo/api", "refs/convert/parquet", {"default/train/0.parquet": b"PAR1"})
    trace = Trace()
    request = Request(method, path, path, "", {}, b"", "127.0.0.1:1", 1)
    answer = HubApi(store, HubSettings()).answer(request, trace)
    assert (answer.status, trace.route, trace.repo_id, trace.revision) == (
        status,
        route,
        repo_id,
        revision,
    )
