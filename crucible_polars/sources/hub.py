"""The HuggingFace Hub as a source, through ``huggingface_hub``.

A load asks the Hub three things, once each: the commit its revision points to
(``HfApi.resolve_revision``, which also caches ``refs/{revision}``), the file listing at that
commit (``list_repo_tree``, kept as ``huggingface_hub``'s own tree cache,
``{repo folder}/trees/{sha}.json``, so later loads and offline loads list nothing), and
``README.md``. Configs and splits are resolved over that listing by the code local folders
use; then only the files of the requested config and split(s) are downloaded with
``hf_hub_download``, pinned to the commit, into the ``huggingface_hub`` cache, where Polars
scans them in place. A second load of the same commit downloads nothing (files pinned to a
commit are served from the cache without a request); ``HF_HUB_OFFLINE=1`` loads make no
request at all. Loading scripts are never downloaded nor run: the Hub's parquet conversion
(``refs/convert/parquet``) is loaded instead.

With ``streaming=True``, :meth:`HubSource.locate` returns ``{endpoint}/datasets/{repo}/resolve/
{sha}/{path}`` URLs (honouring ``HF_ENDPOINT``), which Polars scans with range requests, and
which readers sending ``huggingface_hub``'s headers (with :attr:`HubSource.token`) read for
gated and private repositories too. Polars itself sends no ``Authorization`` header to plain
URLs (its ``storage_options`` carry credentials only to ``s3``/``gs``/``az`` and to
``hf://`` on huggingface.co, whose host is compiled in), so :meth:`HubSource.scannable`
hands Polars, for a gated or private repository, the pre-signed CDN URL the Hub redirects
each LFS file to (fetched with one authenticated ``HEAD``; valid for a limited time, about
an hour on the Hub), and downloads the small non-LFS files, which the Hub serves without a
redirect, into the cache.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, constants, get_cached_repo_tree, hf_hub_url
from huggingface_hub.errors import (
    CachedRepoTreeNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    RevisionResolutionError,
)
from huggingface_hub.utils import validate_repo_id

from crucible_polars.errors import (
    DatasetNotFoundError,
    HubAccessError,
    LoadingScriptError,
    OfflineCacheMissError,
)
from crucible_polars.readers import FORMAT_EXTENSIONS
from crucible_polars.resolve.card import read_card_metadata
from crucible_polars.resolve.configs import ConfigSpec, configs_from_metadata
from crucible_polars.resolve.parquet_branch import (
    PARQUET_REVISION,
    is_parquet_branch_listing,
    parquet_branch_configs,
)
from crucible_polars.resolve.patterns import DataFilesSpec, has_extension, match_files
from crucible_polars.sources.hub_digests import (
    FileDigest,
    cached_digests,
    digests_of,
    expect_digests,
)
from crucible_polars.sources.hub_download import (
    LIBRARY_NAME,
    REPO_TYPE,
    HubDownloads,
    retried,
    write_tree_listing,
)
from crucible_polars.sources.hub_errors import HubContext, token_available, translate_hub_errors
from crucible_polars.sources.hub_listing import list_checked, relisted_digest
from crucible_polars.sources.hub_timeout import api_deadline

_DATA_EXTENSIONS = [e for exts in FORMAT_EXTENSIONS.values() for e in exts] + [
    ".zip",
    ".tar",
    ".tgz",
]


def is_dataset_id(path: str) -> bool:
    """Whether ``path`` is shaped like a Hub dataset id (``"name"`` or ``"owner/name"``).

    Examples
    --------
    >>> is_dataset_id("openai/gsm8k"), is_dataset_id("gsm8k")
    (True, True)
    >>> is_dataset_id("./data"), is_dataset_id("a/b/c"), is_dataset_id("not a repo id!")
    (False, False, False)
    """
    if path.count("/") > 1 or path.startswith((".", "/", "~")):
        return False
    try:
        validate_repo_id(path)
    except HFValidationError:
        return False
    return True


def hub_source_for(
    repo_id: str,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    force_download: bool = False,
    streaming: bool = False,
    endpoint: str | None = None,
) -> HubSource | None:
    """A Hub source for ``repo_id``, or ``None`` when it is not shaped like a dataset id.

    Nothing is requested from the Hub until the source is used. (Catalog short names such as
    ``"gsm8k"`` are resolved by the loader, before this.)

    Examples
    --------
    >>> hub_source_for("not a repo id!") is None
    True
    >>> hub_source_for("openai/gsm8k", revision="main")
    HubSource('openai/gsm8k', revision='main')
    """
    if not is_dataset_id(repo_id):
        return None
    return HubSource(
        repo_id,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        force_download=force_download,
        streaming=streaming,
        endpoint=endpoint,
    )


class HubSource:
    """A dataset repository on the Hub, pinned to one commit, as a source of data files.

    Parameters
    ----------
    repo_id
        ``"owner/name"``.
    revision
        A branch, tag, commit sha or ref such as ``"refs/convert/parquet"`` (default main).
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    cache_dir
        The ``huggingface_hub`` cache folder (default ``HF_HUB_CACHE``).
    force_download
        Download files again even when cached (``download_mode="force_redownload"``).
    streaming
        :meth:`locate` returns URLs for Polars to read remotely instead of downloading.
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Examples
    --------
    >>> from crucible_polars.testing import HubServer
    >>> import tempfile
    >>> with HubServer(reject_unknown_tokens=False) as server:
    ...     _ = server.add_repo("demo/tiny", {"README.md": b"# tiny", "train.csv": b"a\\n1\\n"})
    ...     source = HubSource("demo/tiny", endpoint=server.url, cache_dir=tempfile.mkdtemp())
    ...     files = source.list_files()
    ...     local = source.locate(["train.csv"])
    >>> files, open(local[0]).read()
    (['README.md', 'train.csv'], 'a\\n1\\n')
    """

    storage_options: dict[str, Any] | None = None

    def __init__(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        token: str | bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        force_download: bool = False,
        streaming: bool = False,
        endpoint: str | None = None,
    ) -> None:
        self.repo = repo_id
        self.repo_id: str | None = repo_id  # the Source protocol's (optional) attribute
        self.revision = revision
        self.description = repo_id
        self.cache_dir = str(Path(cache_dir or constants.HF_HUB_CACHE).expanduser().resolve())
        self.force_download = force_download
        self.streaming = streaming
        self.endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
        self._token = token  # never shown: see __repr__
        self.api = HfApi(endpoint=self.endpoint, token=token, library_name=LIBRARY_NAME)
        self._sha: str | None = None
        self._files: list[str] | None = None
        self._digests: dict[str, FileDigest] = {}
        self._texts: dict[str, str | None] = {}
        self._downloads: HubDownloads | None = None
        self._gated_or_private: bool | None = None

    def __repr__(self) -> str:
        pinned = f", sha={self._sha[:10]!r}" if self._sha else ""
        return f"HubSource({self.repo!r}, revision={self.revision!r}{pinned})"

    def _with(self, revision: str) -> HubSource:
        return HubSource(
            self.repo,
            revision=revision,
            token=self._token,
            cache_dir=self.cache_dir,
            force_download=self.force_download,
            streaming=self.streaming,
            endpoint=self.endpoint,
        )

    # ---------------------------------------------------------------- errors

    def errors(self, path: str | None = None) -> AbstractContextManager[None]:
        """Turn ``huggingface_hub`` errors into :mod:`crucible_polars.errors` (cause kept).

        Examples
        --------
        >>> from crucible_polars.errors import OfflineCacheMissError
        >>> from huggingface_hub.errors import OfflineModeIsEnabled
        >>> try:
        ...     with HubSource("org/x").errors("a.csv"):
        ...         raise OfflineModeIsEnabled("offline")
        ... except OfflineCacheMissError as err:
        ...     print(err.missing)
        ['a.csv']
        """
        return translate_hub_errors(
            HubContext(self.repo, self.revision, self.endpoint, token_available(self._token)),
            self._refs,
            path,
        )

    def _refs(self) -> list[str]:
        """Branch and tag names, for the message of an unknown revision."""
        if self.revision == PARQUET_REVISION:  # only ever probed (see parquet_branch)
            return []
        try:
            with api_deadline():
                refs = self.api.list_repo_refs(self.repo, repo_type=REPO_TYPE)
        except (HfHubHTTPError, OSError):
            return []
        return [b.name for b in refs.branches] + [t.name for t in refs.tags]

    # ---------------------------------------------------------------- commit and listing

    @property
    def sha(self) -> str:
        """The commit the revision points to (resolved once; from the cache when offline)."""
        if self._sha is None:
            offline = constants.is_offline_mode()
            what = f"the commit of revision {self.revision or 'main'!r}"

            def resolve() -> Any:
                with self.errors(), api_deadline():
                    return self.api.resolve_revision(
                        self.repo,
                        repo_type=REPO_TYPE,
                        revision=self.revision,
                        cache_dir=self.cache_dir,
                        local_files_only=offline,
                    )

            try:
                resolved = retried(self.repo, what, resolve)
            except RevisionResolutionError as err:
                if not offline:
                    raise
                raise OfflineCacheMissError(self.repo, [what]) from err
            self._sha = str(resolved.resolved)
        return self._sha

    @property
    def storage_folder(self) -> str:
        """This repository's folder in the ``huggingface_hub`` cache."""
        from huggingface_hub.file_download import repo_folder_name

        return os.path.join(
            self.cache_dir, repo_folder_name(repo_id=self.repo, repo_type=REPO_TYPE)
        )

    def list_files(self) -> list[str]:
        """Every file of the repository at :attr:`sha`, sorted (listed once, then cached)."""
        if self._files is None:
            self._files = sorted(self._list_tree())
        return self._files

    def _list_tree(self) -> list[str]:
        try:
            cached = get_cached_repo_tree(
                self.repo, repo_type=REPO_TYPE, revision=self.sha, cache_dir=self.cache_dir
            )
            self._digests.update(cached_digests(self.storage_folder, self.sha))
            return [entry.path for entry in cached]
        except CachedRepoTreeNotFoundError as err:
            if constants.is_offline_mode():
                what = f"the file listing of commit {self.sha[:10]}"
                raise OfflineCacheMissError(self.repo, [what]) from err

        checked = list_checked(self.api, self.repo, self.sha, self.errors)
        if checked.problem is None:  # a listing that failed its checks is not kept
            write_tree_listing(self.storage_folder, self.sha, checked.entries)
        info = checked.info
        self._gated_or_private = bool(info.gated) or bool(info.private)
        self._digests.update(digests_of(checked.entries))
        return [entry.path for entry in checked.entries]

    def read_text(self, path: str) -> str | None:
        """A small text file's content (e.g. ``README.md``), or ``None`` if the repo lacks it."""
        if path not in self._texts:
            text = None
            if path in self.list_files():
                local = self._download([path])[0]
                text = Path(local).read_text(encoding="utf-8", errors="replace")
            self._texts[path] = text
        return self._texts[path]

    # ---------------------------------------------------------------- files

    def url(self, path: str) -> str:
        """The ``resolve`` URL of a file at :attr:`sha` on :attr:`endpoint`."""
        return hf_hub_url(
            self.repo, path, repo_type=REPO_TYPE, revision=self.sha, endpoint=self.endpoint
        )

    def locate(self, paths: list[str]) -> list[str]:
        """Cached local paths of ``paths`` (downloading what is missing); URLs when streaming.

        When streaming, the URLs are those of :meth:`url`: readers that send ``huggingface_hub``'s
        headers (:attr:`token`) read gated and private repositories through them; for a
        plain Polars scan of such a repository use :meth:`scannable`. Offline, streaming
        reads the cached files. The listing's checksums of the files are recorded for the
        streaming reader, which checks what it reads against them
        (:mod:`crucible_polars.streaming.checksums`).

        Raises :class:`~crucible_polars.errors.OfflineCacheMissError` listing every missing
        file when offline, :class:`~crucible_polars.errors.HubAccessError` for a gated or
        private repository the credentials cannot read.
        """
        if not self.streaming or constants.is_offline_mode():
            return self._download(paths)
        if self._needs_token() and not token_available(self._token):
            raise HubAccessError(self.repo, "no token was sent")
        urls = {self.url(p): p for p in paths}
        known = {url: self._digests[p] for url, p in urls.items() if p in self._digests}
        expect_digests(known, lambda url: partial(self._relist, urls[url]))
        return list(urls)

    def scannable(self, paths: list[str]) -> list[str]:
        """Paths or URLs Polars can scan remotely without sending credentials.

        For a public repository, those of :meth:`url`. For a gated or private one, Polars sends
        no ``Authorization`` header, so each LFS file becomes the pre-signed CDN URL the Hub
        redirects it to (one authenticated ``HEAD``; valid for a limited time, about an hour
        on the Hub) and each small non-LFS file is downloaded into the cache.
        """
        if constants.is_offline_mode():
            return self._download(paths)
        if not self._needs_token():
            return [self.url(p) for p in paths]
        if not token_available(self._token):
            raise HubAccessError(self.repo, "no token was sent")
        files = self._files_at_commit()
        return [files.signed_or_local(p, self.url(p)) for p in paths]

    @property
    def token(self) -> str | bool | None:
        """The ``token=`` this source was made with (for readers that send it; never shown)."""
        return self._token

    def _files_at_commit(self) -> HubDownloads:
        if self._downloads is None:
            self._downloads = HubDownloads(
                self.repo,
                self.sha,
                self.cache_dir,
                self._token,
                self.endpoint,
                self.force_download,
                self.errors,
                self._digests,  # filled by the listing, which every load makes first
                self._relist,
            )
        return self._downloads

    def _relist(self, path: str) -> FileDigest | None:
        return relisted_digest(
            self.api, self.repo, self.sha, self.errors, self.storage_folder, self._digests, path
        )

    def _download(self, paths: Sequence[str]) -> list[str]:
        """Local paths of ``paths`` (see :meth:`HubDownloads.download`)."""
        return self._files_at_commit().download(paths) if paths else []

    def _needs_token(self) -> bool:
        if self._gated_or_private is None:

            def ask() -> Any:
                with self.errors(), api_deadline():
                    return self.api.dataset_info(
                        self.repo, revision=self.sha, expand=["gated", "private"]
                    )

            info = retried(self.repo, "the repository's settings", ask)
            self._gated_or_private = bool(info.gated) or bool(info.private)
        return self._gated_or_private

    # ---------------------------------------------------------------- configs and plans
    def script_name(self) -> str | None:
        """The loading script of a script dataset (``{name}.py``, or a lone root ``.py``).

        Examples
        --------
        >>> source = HubSource("org/legacy")
        >>> source._files = ["README.md", "legacy.py"]
        >>> source.script_name()
        'legacy.py'
        """
        listing = self.list_files()
        own = self.repo.rsplit("/", 1)[-1] + ".py"
        if own in listing:
            return own
        scripts = [p for p in listing if "/" not in p and p.endswith(".py")]
        return scripts[0] if scripts and not has_data_files(listing) else None

    def parquet_branch(self) -> HubSource | None:
        """The repository's parquet conversion (``refs/convert/parquet``), if the Hub has one."""
        branch = self._with(PARQUET_REVISION)
        try:
            _ = branch.sha
        except DatasetNotFoundError as err:
            if err.revision is None:
                raise
            return None
        return branch

    def resolve_configs(
        self, data_files: DataFilesSpec | None = None, data_dir: str | None = None
    ) -> tuple[HubSource, list[ConfigSpec] | None]:
        """Where the data is (this source or its parquet branch) and its configs.

        Configs come from the README's YAML ``configs:``; ``None`` means one ``default``
        config inferred from the folder layout. A repository with a loading script, or with
        no data file at all, is read from its ``refs/convert/parquet`` conversion.

        Raises :class:`~crucible_polars.errors.LoadingScriptError` for a script dataset
        without a parquet conversion.
        """
        listing = self.list_files()
        if data_files is not None:
            return self, configs_from_metadata(self._card()) or None
        if self.revision == PARQUET_REVISION and is_parquet_branch_listing(listing):
            return self, parquet_branch_configs(listing)
        script = self.script_name()
        if script is not None:
            branch = self.parquet_branch()
            if branch is None:
                raise LoadingScriptError(self.repo, script)
            return branch, parquet_branch_configs(branch.list_files())
        configs = configs_from_metadata(self._card())
        if configs or data_dir is not None or has_data_files(listing):
            return self, configs or None
        branch = self.parquet_branch()
        if branch is not None:
            return branch, parquet_branch_configs(branch.list_files())
        return self, None

    def _card(self) -> dict[str, Any]:
        return read_card_metadata(self.read_text("README.md"))


def has_data_files(listing: Sequence[str]) -> bool:
    """Whether a listing holds any file a reader can load (metadata files aside).

    Examples
    --------
    >>> has_data_files(["README.md", "legacy.py"]), has_data_files(["data/a.jsonl.gz"])
    (False, True)
    """
    return any(has_extension(f, _DATA_EXTENSIONS) for f in match_files("**", listing))
