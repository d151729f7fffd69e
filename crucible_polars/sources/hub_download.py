"""Files of a Hub dataset repository at one commit, into the ``huggingface_hub`` cache.

:class:`HubDownloads` serves a file from the cache when it is there (files pinned to a commit
never change, so no request is made), else downloads it with ``hf_hub_download``, several
files at once; every Hub request goes through :func:`retried`. :func:`write_tree_listing`
keeps a repository listing in ``huggingface_hub``'s own tree cache. Used by
:class:`~crucible_polars.sources.hub.HubSource`.

Examples
--------
>>> retried("org/x", "README.md", lambda: "ok")
'ok'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from huggingface_hub import (
    constants,
    get_hf_file_metadata,
    hf_hub_download,
    try_to_load_from_cache,
)
from huggingface_hub.errors import LocalEntryNotFoundError
from huggingface_hub.hf_api import RepoFile

from crucible_polars.errors import HubDownloadError, OfflineCacheMissError
from crucible_polars.retry import TransientFault, retry_call, transient_reason
from crucible_polars.sources.hub_digests import FileDigest, check_file, discard_cached
from crucible_polars.sources.hub_timeout import api_timeout_seconds
from crucible_polars.sources.leftovers import sweep_incomplete_downloads

try:  # not public: see write_tree_listing; tests/test_hub_retries.py fails if it moves
    from huggingface_hub._tree_cache import TreeCacheEntry, write_tree_cache
except ImportError:  # pragma: no cover - another huggingface_hub layout
    TreeCacheEntry = write_tree_cache = None  # type: ignore[assignment,misc]

REPO_TYPE = "dataset"
LIBRARY_NAME = "crucible_polars"
MAX_DOWNLOAD_WORKERS = 8
T = TypeVar("T")


def retried(repo: str, what: str, call: Callable[[], T]) -> T:
    """``call()`` retried on transient Hub faults (5xx, 429, resets, cut bodies), on top of
    ``huggingface_hub``'s own retries; then a :class:`HubDownloadError` naming ``what``.

    Parameters
    ----------
    repo
        The repository, for the error.
    what
        What is asked (a file path, "the file listing of ..."), for the error.
    call
        One attempt.

    Examples
    --------
    >>> retried("org/x", "a.csv", lambda: 42)
    42
    """
    return retry_call(call, lambda attempts, reason: HubDownloadError(repo, what, attempts, reason))


HF_BACKOFF_ATTEMPTS = 6
"""Tries ``huggingface_hub`` itself makes of a listing page or a download's ``HEAD`` on a
transient fault (5xx, 429, timeout, reset): the first and 5 retries, waiting 1 s to 8 s
(or what ``Retry-After`` asks), about 23 s in all."""


GET_RETRIED = ("HTTP 408", "HTTP 429")
"""Faults of a download's body that ``huggingface_hub`` retries itself (obeying
``Retry-After``)."""


@contextmanager
def retried_inside(repo: str, what: str, *, wrapped_only: bool = False) -> Iterator[None]:
    """A transient fault of a request ``huggingface_hub`` already retried with backoff ends
    at once in a :class:`HubDownloadError` naming ``what``: retrying it again on top would
    make a persistent fault take minutes.

    Parameters
    ----------
    repo, what
        The repository and what was asked, for the error.
    wrapped_only
        Only faults ``huggingface_hub`` wrapped in ``LocalEntryNotFoundError`` (those of a
        download's ``HEAD``), and the statuses it retries on the body's ``GET``
        (:data:`GET_RETRIED`); its other faults (reset, cut, 5xx, timeout) it does not retry,
        so :func:`retried` does.

    Examples
    --------
    >>> import httpx2
    >>> try:
    ...     with retried_inside("org/x", "the file listing"):
    ...         raise httpx2.ReadTimeout("timed out")
    ... except HubDownloadError as err:
    ...     print(err.attempts, err.reason)
    6 ReadTimeout: timed out
    """
    try:
        yield
    except Exception as error:
        reason = transient_reason(error)
        wrapped = isinstance(error, LocalEntryNotFoundError)
        if reason is None or (wrapped_only and not wrapped and reason not in GET_RETRIED):
            raise
        raise HubDownloadError(repo, what, HF_BACKOFF_ATTEMPTS, reason) from error


@dataclass
class HubDownloads:
    """Downloads of one repository's files at one commit (each file fetched once).

    Parameters
    ----------
    repo
        ``"owner/name"``.
    sha
        The commit.
    cache_dir
        The ``huggingface_hub`` cache folder.
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    endpoint
        The Hub URL.
    force_download
        Download files again even when cached.
    errors
        ``errors(path)``: a context manager turning ``huggingface_hub`` errors about ``path``
        into :mod:`crucible_polars.errors` (``HubSource.errors``).
    digests
        ``{path: FileDigest}`` from the tree listing: a downloaded file that does not match
        its entry is removed from the cache and downloaded again (then a
        :class:`~crucible_polars.errors.HubDownloadError` naming it).
    relist
        ``relist(path)``, called once per file that does not match its entry: lists the
        repository again and returns the fresh entry when the listing used was wrong (the
        file is then downloaded again against it), else ``None``.
    fetched
        Local paths of the files fetched so far.
    swept
        Whether :meth:`sweep` ran.
    relisted
        The files :attr:`relist` was called for.

    Examples
    --------
    >>> from contextlib import nullcontext
    >>> downloads = HubDownloads("org/x", "0" * 40, "/tmp", None, "https://hf.co", False,
    ...                          lambda path: nullcontext())
    >>> downloads.download([])
    []
    """

    repo: str
    sha: str
    cache_dir: str
    token: str | bool | None
    endpoint: str
    force_download: bool
    errors: Callable[[str | None], AbstractContextManager[None]]
    digests: Mapping[str, FileDigest] = field(default_factory=dict)
    relist: Callable[[str], FileDigest | None] | None = None
    fetched: dict[str, str] = field(default_factory=dict)
    swept: bool = False
    relisted: set[str] = field(default_factory=set)

    def download(self, paths: Sequence[str]) -> list[str]:
        """Local paths of ``paths``, from the cache or downloaded (offline: cached only).

        Parameters
        ----------
        paths
            Files of the repository.

        Raises
        ------
        OfflineCacheMissError
            Offline, listing every file the cache lacks.
        """
        found: dict[str, str] = {p: self.fetched[p] for p in paths if p in self.fetched}
        if not self.force_download:
            for p in paths:
                cached = try_to_load_from_cache(
                    self.repo,
                    p,
                    cache_dir=self.cache_dir,
                    revision=self.sha,
                    repo_type=REPO_TYPE,
                )
                if isinstance(cached, str):
                    found[p] = cached
        missing = list(dict.fromkeys(p for p in paths if p not in found))
        if missing and constants.is_offline_mode():
            raise OfflineCacheMissError(self.repo, missing)
        if missing:
            fetched = dict(zip(missing, self.fetch(missing), strict=True))
            self.fetched.update(fetched)
            found.update(fetched)
        return [found[p] for p in paths]

    def fetch(self, paths: list[str]) -> list[str]:
        """Download files (several at once, with one progress bar over the files).

        Parameters
        ----------
        paths
            Files of the repository, each downloaded (again) whether cached or not.
        """

        self.sweep()

        def one(path: str) -> str:
            def download() -> str:
                with self.errors(path), retried_inside(self.repo, path, wrapped_only=True):
                    local = str(
                        hf_hub_download(
                            self.repo,
                            path,
                            repo_type=REPO_TYPE,
                            revision=self.sha,
                            cache_dir=self.cache_dir,
                            token=self.token,
                            endpoint=self.endpoint,
                            force_download=self.force_download,
                            library_name=LIBRARY_NAME,
                            etag_timeout=api_timeout_seconds(),
                        )
                    )
                wrong = check_file(local, self.digests.get(path))
                if wrong is not None:
                    discard_cached(local)
                    if self.relist is not None and path not in self.relisted:
                        self.relisted.add(path)  # the listing may be the wrong one
                        if self.relist(path) is not None:
                            raise TransientFault(f"the file listing was wrong about {path}")
                    raise TransientFault(f"the downloaded bytes are wrong: {wrong}")
                return local

            return retried(self.repo, path, download)

        if len(paths) == 1:
            return [one(paths[0])]
        from huggingface_hub.utils import tqdm as hf_tqdm
        from tqdm.contrib.concurrent import thread_map

        return list(
            thread_map(
                one,
                paths,
                desc=f"Downloading {len(paths)} files of {self.repo}",
                max_workers=min(MAX_DOWNLOAD_WORKERS, len(paths)),
                tqdm_class=hf_tqdm,
            )
        )

    def sweep(self) -> None:
        """Remove, once, the ``.incomplete`` files killed downloads left in this repository's
        cache folder (:func:`~crucible_polars.sources.leftovers.sweep_incomplete_downloads`).

        Examples
        --------
        >>> from contextlib import nullcontext
        >>> HubDownloads("org/x", "0" * 40, "/nonexistent", None, "", False,
        ...              lambda path: nullcontext()).sweep()
        """
        if self.swept:
            return
        self.swept = True
        from huggingface_hub.file_download import repo_folder_name

        folder = repo_folder_name(repo_id=self.repo, repo_type=REPO_TYPE)
        sweep_incomplete_downloads(self.cache_dir, os.path.join(self.cache_dir, folder))

    def signed_or_local(self, path: str, url: str) -> str:
        """The pre-signed CDN URL of an LFS file, else the file downloaded into the cache.

        Parameters
        ----------
        path
            A file of the repository.
        url
            Its ``resolve`` URL at :attr:`sha` (asked with one authenticated ``HEAD``).
        """

        def head() -> Any:
            with self.errors(path):
                return get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)

        meta = retried(self.repo, path, head)
        location = meta.location
        if location and location != url and "://" in location:
            return location
        return self.download([path])[0]


def write_tree_listing(storage_folder: str, sha: str, entries: list[RepoFile]) -> None:
    """Keep a listing in ``huggingface_hub``'s tree cache (read by ``get_cached_repo_tree``).

    ``huggingface_hub`` fills that cache only inside ``snapshot_download``, which downloads
    too; a load lists the repository before it knows which files it needs, so the listing is
    written here with the writer ``snapshot_download`` uses, which is not public.
    ``tests/test_hub_retries.py`` checks that it still exists and that ``snapshot_download``
    and ``get_cached_repo_tree`` read what it wrote; should a ``huggingface_hub`` release move
    it, loads still work but list the repository again each time, and say so.

    Parameters
    ----------
    storage_folder
        The repository's folder in the ``huggingface_hub`` cache.
    sha
        The commit listed.
    entries
        The files at that commit.

    Examples
    --------
    >>> import tempfile
    >>> from huggingface_hub import get_cached_repo_tree
    >>> from huggingface_hub.file_download import repo_folder_name
    >>> cache = tempfile.mkdtemp()
    >>> folder = f"{cache}/{repo_folder_name(repo_id='org/x', repo_type='dataset')}"
    >>> file = RepoFile(path="a.csv", size=3, oid="b" * 40)
    >>> write_tree_listing(folder, "c" * 40, [file])
    >>> [e.path for e in get_cached_repo_tree("org/x", repo_type="dataset",
    ...                                       revision="c" * 40, cache_dir=cache)]
    ['a.csv']
    """
    if write_tree_cache is None:  # pragma: no cover - another huggingface_hub layout
        warnings.warn(
            "This huggingface_hub version has no huggingface_hub._tree_cache: file listings "
            "are not cached, so every load lists the repository again and offline loads fail.",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    write_tree_cache(
        storage_folder,
        sha,
        {
            e.path: TreeCacheEntry(
                size=e.size,
                blob_id=e.blob_id,
                lfs_sha256=e.lfs.sha256 if e.lfs is not None else None,
                lfs_size=e.lfs.size if e.lfs is not None else None,
                xet_hash=e.xet_hash,
            )
            for e in entries
        },
    )
