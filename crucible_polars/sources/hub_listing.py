"""A repository's file listing, checked before it is cached.

A load lists the repository once and keeps the listing in ``huggingface_hub``'s tree cache,
which every later and offline load of the commit reads instead of asking again. An answer
that parses but is wrong (a changed character, a page missing) would stay there for good, so
a fresh listing is checked first (:func:`listing_problem`):

* every path is well formed and listed once; every blob id, LFS sha256 and size has its
  shape;
* an LFS file's blob id is the git object id of its pointer file, which holds its sha256
  and size, so a changed checksum or size shows (when the listing's pointer size is that
  of the standard pointer, as the Hub writes it);
* every file of the repository's file list (``siblings``, asked at the same commit with
  the repository's settings) is in the listing: a listing cut short, or a name changed,
  shows.

A listing that fails a check is asked again (both answers); one that never passes is used
for this load but not cached, with a warning (a check that the Hub's answers always failed
must not make loads fail). A non-LFS file's blob id and size cannot be checked this way:
when a file does not match its entry, :func:`relisted_digest` lists the repository again
and, if the fresh listing says otherwise, keeps it (the cached one was wrong).

Examples
--------
>>> from huggingface_hub.hf_api import RepoFile
>>> ok = RepoFile(path="a.csv", size=3, oid="b" * 40)
>>> listing_problem([ok], ["a.csv"]) is None
True
>>> listing_problem([ok], ["a.csv", "b.csv"])
'1 file of the repository is missing from it (b.csv)'
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from huggingface_hub import HfApi
from huggingface_hub.hf_api import RepoFile

from crucible_polars.retry import retry_policy
from crucible_polars.sources.hub_digests import FileDigest, digests_of, git_blob_id
from crucible_polars.sources.hub_download import (
    REPO_TYPE,
    retried,
    retried_inside,
    write_tree_listing,
)
from crucible_polars.sources.hub_timeout import api_deadline

_HEX40 = re.compile(r"[0-9a-fA-F]{40}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The standard Git LFS pointer file of a file (what git stores for an LFS file).

    Parameters
    ----------
    sha256
        The file's sha256.
    size
        Its size in bytes.

    Examples
    --------
    >>> lfs_pointer("0" * 64, 3).splitlines()[2]
    b'size 3'
    """
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    ).encode()


def listing_problem(entries: Sequence[RepoFile], siblings: Sequence[str] | None) -> str | None:
    """What is wrong with a listing (see the module's description), or ``None``.

    Parameters
    ----------
    entries
        The listing's files.
    siblings
        The repository's file names from its settings, if known.

    Examples
    --------
    >>> from huggingface_hub.hf_api import RepoFile
    >>> listing_problem([RepoFile(path="../a", size=1, oid="b" * 40)], None)
    "a malformed path '../a'"
    """
    seen: set[str] = set()
    for entry in entries:
        path = entry.path
        if not path or path.startswith("/") or {"", ".", ".."} & set(path.split("/")):
            return f"a malformed path {path!r}"
        if path in seen:
            return f"{path!r} is listed twice"
        seen.add(path)
        if not _HEX40.fullmatch(entry.blob_id or "") or not entry.size >= 0:
            return f"a malformed blob id or size for {path!r}"
        lfs = entry.lfs
        if lfs is None:
            continue
        if not _HEX64.fullmatch(lfs.sha256 or "") or not lfs.size >= 0:
            return f"a malformed sha256 or size for {path!r}"
        pointer = lfs_pointer(lfs.sha256.lower(), lfs.size)
        if lfs.pointer_size == len(pointer) and git_blob_id(pointer) != entry.blob_id.lower():
            return f"the sha256 or size of {path!r} does not match its git blob id"
    missing = sorted(set(siblings or ()) - seen)
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        files = "file of the repository is" if len(missing) == 1 else "files of the repository are"
        return f"{len(missing)} {files} missing from it ({shown})"
    return None


@dataclass(frozen=True)
class CheckedListing:
    """A fresh listing, what the repository's settings said, and what is wrong, if anything.

    Attributes
    ----------
    entries : list[RepoFile]
        The files at the commit.
    info : Any
        The ``DatasetInfo`` asked with it (``siblings``, ``gated``, ``private``).
    problem : str or None
        Why it failed its checks every time (then it must not be cached).
    """

    entries: list[RepoFile]
    info: Any
    problem: str | None


def list_checked(
    api: HfApi, repo: str, sha: str, errors: Callable[[], AbstractContextManager[None]]
) -> CheckedListing:
    """List the repository at ``sha`` and check the listing; ask again while it fails.

    Parameters
    ----------
    api
        The client.
    repo
        ``"owner/name"``.
    sha
        The commit.
    errors
        Turns ``huggingface_hub`` errors into ours (``HubSource.errors``).
    """
    what = f"the file listing of commit {sha[:10]}"

    def listing() -> list[RepoFile]:
        with errors(), api_deadline(), retried_inside(repo, what):
            return [
                entry
                for entry in api.list_repo_tree(
                    repo, recursive=True, revision=sha, repo_type=REPO_TYPE
                )
                if isinstance(entry, RepoFile)
            ]

    def settings() -> Any:
        with errors(), api_deadline():
            return api.dataset_info(repo, revision=sha, expand=["siblings", "gated", "private"])

    policy = retry_policy()
    for attempt in range(1, policy.attempts + 1):
        entries = retried(repo, what, listing)
        info = retried(repo, "the repository's settings and file list", settings)
        names = None if info.siblings is None else [s.rfilename for s in info.siblings]
        problem = listing_problem(entries, names)
        if problem is None:
            return CheckedListing(entries, info, None)
        if attempt < policy.attempts:
            time.sleep(policy.wait_before(attempt))
    warnings.warn(
        f"The file listing of commit {sha[:10]} of dataset {repo!r} failed its checks "
        f"{policy.attempts} times ({problem}): it is used for this load but not cached.",
        RuntimeWarning,
        stacklevel=3,
    )
    return CheckedListing(entries, info, problem)


def relisted_digest(
    api: HfApi,
    repo: str,
    sha: str,
    errors: Callable[[], AbstractContextManager[None]],
    storage_folder: str,
    digests: dict[str, FileDigest],
    path: str,
) -> FileDigest | None:
    """After ``path``'s bytes did not match ``digests[path]``: list the repository again;
    when the fresh listing says something else about ``path``, the listing used was wrong:
    keep the fresh one (``digests`` and, if it passes its checks, the tree cache) and return
    the new entry. ``None`` when the listing says the same (the bytes were wrong).

    Parameters
    ----------
    api, repo, sha, errors
        As for :func:`list_checked`.
    storage_folder
        The repository's folder in the ``huggingface_hub`` cache.
    digests
        The entries in use, updated in place.
    path
        The file that did not match.
    """
    checked = list_checked(api, repo, sha, errors)
    fresh = digests_of(checked.entries)
    new = fresh.get(path)
    if new is None or new == digests.get(path):
        return None
    if checked.problem is None:
        write_tree_listing(storage_folder, sha, checked.entries)
    digests.update(fresh)
    return new
