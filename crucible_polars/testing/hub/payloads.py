"""The JSON the Hub API answers about repositories, commits and files (pure functions).

Each function takes the storage objects of :mod:`.storage` and returns what
``https://huggingface.co`` answers for them: repository info, tree entries, commit
summaries, Hub tags derived from the dataset card, and the parquet conversion's layout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from crucible_polars.testing.hub.errors import HubError
from crucible_polars.testing.hub.storage import Commit, FileEntry, Repo

_CARD_TAG_KEYS = (
    "task_categories",
    "task_ids",
    "language",
    "license",
    "size_categories",
    "source_datasets",
    "multilinguality",
    "annotations_creators",
    "language_creators",
)


def iso(moment: datetime) -> str:
    """A date as the Hub writes it: ISO 8601 with milliseconds and ``Z``.

    Parameters
    ----------
    moment : datetime
        An aware UTC datetime.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> iso(datetime(2024, 5, 1, 12, 30, 0, 123456, tzinfo=timezone.utc))
    '2024-05-01T12:30:00.123Z'
    """
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_front_matter(text: str) -> dict[str, Any] | None:
    match = re.match(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", text, re.DOTALL)
    if match is None:
        return None
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml is a dependency of the package
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _parse_readme(commit: Commit) -> None:
    if commit.card_parsed:
        return
    readme = commit.files.get("README.md")
    if readme is not None:
        text = readme.blob.read().decode("utf-8", "replace")
        commit.card = _parse_front_matter(text)
        body = re.sub(r"\A---.*?\n---[ \t]*\r?\n?", "", text, count=1, flags=re.DOTALL)
        commit.description = body.strip()[:300] or None
    commit.card_parsed = True


def card(repo: Repo, commit: Commit | None) -> dict[str, Any] | None:
    """``cardData``: the repository's override, else the YAML header of ``README.md``.

    Parameters
    ----------
    repo : Repo
        The repository.
    commit : Commit or None
        The commit whose ``README.md`` is read (``None``: only the override counts).

    Examples
    --------
    >>> from crucible_polars.testing.hub.storage import Repo
    >>> card(Repo(repo_type="dataset", repo_id="a/b", card_data={"license": "mit"}), None)
    {'license': 'mit'}
    """
    if repo.card_data is not None or commit is None:
        return repo.card_data
    _parse_readme(commit)
    return commit.card


def tags(repo: Repo, card_data: Mapping[str, Any] | None) -> list[str]:
    """Hub tags: the repository's own, then ``key:value`` tags derived from the card.

    Parameters
    ----------
    repo : Repo
        The repository.
    card_data : Mapping or None
        Its card data (see :func:`card`).

    Examples
    --------
    >>> from crucible_polars.testing.hub.storage import Repo
    >>> tags(Repo(repo_type="dataset", repo_id="a/b", tags=["x"]), {"license": "mit"})
    ['x', 'license:mit', 'region:us']
    """
    out = list(repo.tags)
    for key in _CARD_TAG_KEYS:
        value = (card_data or {}).get(key)
        values = value if isinstance(value, list) else [value] if value else []
        out += [f"{key}:{v}" for v in values if isinstance(v, (str, int, float))]
    out.append("region:us")
    return list(dict.fromkeys(out))


def info_json(
    repo: Repo,
    commit: Commit | None,
    *,
    blobs: bool,
    expand: Sequence[str],
    siblings: bool = True,
) -> dict[str, Any]:
    """The ``/api/{type}/{repo}`` answer (``dataset_info``, ``model_info``, list items).

    Parameters
    ----------
    repo : Repo
        The repository.
    commit : Commit or None
        The commit described (``None`` for a repository without commits).
    blobs : bool
        Add sizes, blob ids and LFS details to ``siblings`` (``?blobs=true``).
    expand : Sequence[str]
        Keep only these fields (and ``_id``, ``id``) when not empty (``?expand=``).
    siblings : bool, default True
        Include the ``siblings`` file list.

    Examples
    --------
    >>> from crucible_polars.testing.hub.storage import Repo
    >>> info_json(Repo(repo_type="dataset", repo_id="a/b"), None, blobs=False, expand=["sha"])
    ... # doctest: +ELLIPSIS
    {'_id': '...', 'id': 'a/b', 'sha': None}
    """
    card_data = card(repo, commit)
    files = commit.files if commit is not None else {}
    last_modified = commit.date if commit is not None else repo.created_at
    data: dict[str, Any] = {
        "_id": repo.object_id,
        "id": repo.repo_id,
        "author": repo.author,
        "sha": commit.sha if commit is not None else None,
        "lastModified": iso(last_modified),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "downloads": repo.downloads,
        "downloadsAllTime": repo.downloads,
        "likes": repo.likes,
        "trendingScore": 0,
        "tags": tags(repo, card_data),
        "createdAt": iso(repo.created_at),
        "usedStorage": sum(e.blob.size for e in files.values()),
        "xetEnabled": False,
    }
    if repo.repo_type == "model":
        data["modelId"] = repo.repo_id
        data["library_name"] = (card_data or {}).get("library_name")
    if repo.repo_type == "dataset":
        data["paperswithcode_id"] = (card_data or {}).get("paperswithcode_id")
        if commit is not None:
            _parse_readme(commit)
        data["description"] = commit.description if commit is not None else None
    if card_data is not None:
        data["cardData"] = card_data
    if siblings:
        data["siblings"] = [_sibling(path, entry, blobs) for path, entry in files.items()]
    if expand:
        return {k: v for k, v in data.items() if k in {"_id", "id", *expand}}
    return data


def _sibling(path: str, entry: FileEntry, blobs: bool) -> dict[str, Any]:
    sibling: dict[str, Any] = {"rfilename": path}
    if blobs:
        sibling["size"] = entry.blob.size
        sibling["blobId"] = entry.oid
        if entry.lfs:
            sibling["lfs"] = {
                "sha256": entry.blob.sha256,
                "size": entry.blob.size,
                "pointerSize": len(entry.pointer),
            }
    return sibling


def commit_json(commit: Commit) -> dict[str, Any]:
    """One item of the ``/commits/{rev}`` answer.

    Parameters
    ----------
    commit : Commit
        The commit described.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from crucible_polars.testing.hub.storage import Commit
    >>> done = Commit("c0ffee", {}, None, "Init", datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> commit_json(done)["title"], commit_json(done)["date"]
    ('Init', '2024-01-01T00:00:00.000Z')
    """
    return {
        "id": commit.sha,
        "title": commit.message,
        "message": "",
        "authors": [{"user": "crucible", "avatar": ""}],
        "date": iso(commit.date),
        "formatted": {"title": commit.message, "message": ""},
    }


def _last_commit(history: Sequence[Commit], path: str) -> dict[str, str]:
    """The oldest commit of ``history`` (newest first) since which ``path`` is unchanged."""

    def oid_at(c: Commit) -> str | None:
        entry = c.files.get(path)
        return entry.oid if entry is not None else c.dirs.get(path)

    current, oid = history[0], oid_at(history[0])
    for parent in history[1:]:
        if oid_at(parent) != oid:
            break
        current = parent
    return {"id": current.sha, "title": current.message, "date": iso(current.date)}


def entry_json(history: Sequence[Commit], path: str, *, expand: bool) -> dict[str, Any] | None:
    """A ``tree`` / ``paths-info`` entry for ``path`` at ``history[0]``, or ``None``.

    Parameters
    ----------
    history : Sequence[Commit]
        The commit described, then its ancestors, newest first (``lastCommit`` needs them).
    path : str
        A file or directory path in the commit.
    expand : bool
        Add ``lastCommit`` and ``securityFileStatus`` (``?expand=true``).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from crucible_polars.testing.hub.storage import Blob, Commit, FileEntry
    >>> files = {"a/x.txt": FileEntry(Blob.from_bytes(b"hi"), lfs=False)}
    >>> done = Commit("c0ffee", files, None, "Init", datetime.now(timezone.utc))
    >>> entry_json([done], "a/x.txt", expand=False)["size"]
    2
    >>> entry_json([done], "a", expand=False)["type"]
    'directory'
    """
    commit = history[0]
    entry = commit.files.get(path)
    out: dict[str, Any]
    if entry is not None:
        out = {"type": "file", "oid": entry.oid, "size": entry.blob.size, "path": path}
        if entry.lfs:
            out["lfs"] = {
                "oid": entry.blob.sha256,
                "size": entry.blob.size,
                "pointerSize": len(entry.pointer),
            }
        if expand:
            out["securityFileStatus"] = {
                "status": "safe",
                "avScan": {"virusFound": False, "virusNames": None},
                "pickleImportScan": None,
            }
    elif path and commit.is_dir(path):
        out = {"type": "directory", "oid": commit.dirs[path], "size": 0, "path": path}
    else:
        return None
    if expand:
        out["lastCommit"] = _last_commit(history, path)
    return out


def tree_paths(commit: Commit, path: str, recursive: bool) -> list[str]:
    """Paths listed by the ``tree`` endpoint under ``path``: directories first, then files.

    Parameters
    ----------
    commit : Commit
        The commit listed.
    path : str
        The directory listed (``""`` for the root).
    recursive : bool
        List the whole subtree, in path order, instead of the direct children.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from crucible_polars.testing.hub.storage import Blob, Commit, FileEntry
    >>> entry = FileEntry(Blob.from_bytes(b""), lfs=False)
    >>> files = {"b.txt": entry, "a/x.txt": entry}
    >>> done = Commit("c0", files, None, "", datetime.now(timezone.utc))
    >>> tree_paths(done, "", False), tree_paths(done, "", True)
    (['a', 'b.txt'], ['a', 'a/x.txt', 'b.txt'])
    """
    prefix = f"{path}/" if path else ""
    every = [p for p in (*commit.dirs, *commit.files) if p and p.startswith(prefix)]
    if recursive:
        return sorted(every, key=lambda p: p.split("/"))
    children = [p for p in every if "/" not in p[len(prefix) :]]
    dirs = sorted(p for p in children if p in commit.dirs)
    files = sorted(p for p in children if p not in commit.dirs)
    return dirs + files


def parquet_files(commit: Commit | None) -> dict[str, dict[str, list[str]]]:
    """``{config: {split: [paths]}}`` of a ``refs/convert/parquet`` commit.

    Parameters
    ----------
    commit : Commit or None
        The commit of ``refs/convert/parquet``; ``None`` raises the Hub's ``404``.

    Raises
    ------
    HubError
        ``404 EntryNotFound`` when the repository has no parquet conversion.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from crucible_polars.testing.hub.storage import Blob, Commit, FileEntry
    >>> entry = FileEntry(Blob.from_bytes(b""), lfs=True)
    >>> files = {"default/train/0000.parquet": entry}
    >>> parquet_files(Commit("c0", files, None, "", datetime.now(timezone.utc)))
    {'default': {'train': ['default/train/0000.parquet']}}
    """
    if commit is None:
        raise HubError(404, "Parquet conversion not found", "EntryNotFound")
    out: dict[str, dict[str, list[str]]] = {}
    for path in commit.files:
        parts = path.split("/")
        if len(parts) == 3 and parts[2].endswith(".parquet"):
            out.setdefault(parts[0], {}).setdefault(parts[1], []).append(path)
    return out
