"""The repositories a test Hub serves: filled by the test, read by the Hub API."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from crucible_polars.testing.hub.storage import (
    DEFAULT_LFS_EXTENSIONS,
    DEFAULT_LFS_THRESHOLD,
    Blob,
    Commit,
    FileEntry,
    FilesSource,
    Gated,
    Repo,
    RepoType,
    full_ref,
)


@dataclass(frozen=True)
class RepoMatch:
    """Which repository a request path addresses (see :meth:`RepoStore.match`).

    Attributes
    ----------
    repo : Repo or None
        The repository, ``None`` when no known one matches.
    repo_id : str
        Its id, or the id the path would name when ``repo`` is ``None``.
    rest : list[str]
        The path segments after the repository id.
    """

    repo: Repo | None
    repo_id: str
    rest: list[str]


class RepoStore:
    """The repositories, commits and access tokens that a test Hub serves.

    A :class:`~crucible_polars.testing.hub_server.HubServer` serves one ``RepoStore`` over HTTP
    (and offers its ``add_*`` methods as its own): fill it with :meth:`add_repo`,
    :meth:`add_revision`, :meth:`add_tag` and :meth:`add_user`. The Hub API reads it through
    the query methods (:meth:`match`, :meth:`resolve`, :meth:`history`...), which take the
    store's lock themselves, so the content may change while requests are answered.

    Parameters
    ----------
    lfs_extensions : Iterable[str], optional
        Extensions treated as LFS files (default :data:`DEFAULT_LFS_EXTENSIONS`). Patterns
        marked ``filter=lfs`` in a repository's ``.gitattributes`` are honoured too.
    lfs_threshold : int, default 10 MiB
        Files at least this large are LFS files whatever their extension.

    Examples
    --------
    >>> store = RepoStore()
    >>> sha = store.add_repo("demo/tiny", {"data.csv": b"x\\n1\\n"})
    >>> store.revision_sha("demo/tiny") == sha, store.repo_ids()
    (True, ['demo/tiny'])
    """

    def __init__(
        self,
        *,
        lfs_extensions: Iterable[str] | None = None,
        lfs_threshold: int = DEFAULT_LFS_THRESHOLD,
    ) -> None:
        self.lfs_extensions = frozenset(
            e.lower()
            for e in (DEFAULT_LFS_EXTENSIONS if lfs_extensions is None else lfs_extensions)
        )
        self.lfs_threshold = lfs_threshold
        self._lock = threading.RLock()
        self._repos: dict[tuple[RepoType, str], Repo] = {}
        self._blobs_by_sha256: dict[str, Blob] = {}
        self._users: dict[str, str] = {}  # token -> user name
        self._counter = 0

    # ---------------------------------------------------------------- content

    def add_user(self, token: str, name: str = "crucible-user") -> None:
        """Register a valid access token (answered by ``/api/whoami-v2`` as ``name``)."""
        with self._lock:
            self._users[token] = name

    def add_repo(
        self,
        repo_id: str,
        files: FilesSource,
        *,
        revision: str = "main",
        repo_type: RepoType = "dataset",
        gated: Gated | None = None,
        private: bool | None = None,
        tokens: Iterable[str] = (),
        tags: Iterable[str] | None = None,
        card_data: Mapping[str, Any] | None = None,
        downloads: int | None = None,
        message: str | None = None,
        in_memory: bool = True,
    ) -> str:
        """Create (or update) a repository and commit ``files`` to ``revision``.

        Parameters
        ----------
        repo_id : str
            ``"owner/name"`` (a bare ``"name"`` works too, like legacy canonical datasets).
        files : Mapping[str, bytes] or path-like
            The whole tree of the new commit: a ``{path_in_repo: content}`` mapping, or a local
            folder read recursively (``.git`` and ``.cache/huggingface`` are skipped).
        revision : str, default "main"
            Branch name, or full ref such as ``"refs/convert/parquet"``.
        repo_type : {"dataset", "model", "space"}, default "dataset"
            Repository type.
        gated : bool or {"auto", "manual"}, optional
            Gate file downloads: without an authorised token ``resolve`` answers ``401``/``403``
            with ``X-Error-Code: GatedRepo`` (metadata and listings stay public, as on the Hub).
            ``None`` keeps the current setting (``False`` for a new repository).
        private : bool, optional
            Hide the repository from anyone without an authorised token (``RepoNotFound``).
            ``None`` keeps the current setting.
        tokens : Iterable[str]
            Access tokens granted access to this (gated or private) repository; they are
            registered as users too (see :meth:`add_user`).
        tags : Iterable[str], optional
            Hub tags (``dataset_info().tags``), not git tags (see :meth:`add_tag`). Tags derived
            from the card (``license:mit``...) are added automatically.
        card_data : Mapping, optional
            ``cardData`` to report; by default it is parsed from ``README.md``'s YAML header
            of the requested revision.
        downloads : int, optional
            Download count to report.
        message : str, optional
            Commit title.
        in_memory : bool, default True
            For folders: keep the bytes in memory (``False`` streams them from disk, which
            then must not change while the server runs).

        Returns
        -------
        str
            The sha of the new commit.
        """
        key = (repo_type, repo_id)
        with self._lock:
            repo = self._repos.get(key)
            if repo is None:
                repo = self._repos[key] = Repo(repo_type=repo_type, repo_id=repo_id)
            if gated is not None:
                repo.gated = "auto" if gated is True else gated
            if private is not None:
                repo.private = private
            for token in tokens:
                repo.tokens.add(token)
                if token not in self._users:
                    self._users[token] = f"crucible-user-{len(self._users) + 1}"
            if tags is not None:
                repo.tags = list(tags)
            if card_data is not None:
                repo.card_data = dict(card_data)
            if downloads is not None:
                repo.downloads = downloads
        return self.add_revision(
            repo_id, revision, files, repo_type=repo_type, message=message, in_memory=in_memory
        )

    def add_revision(
        self,
        repo_id: str,
        revision: str,
        files: FilesSource,
        *,
        repo_type: RepoType = "dataset",
        message: str | None = None,
        in_memory: bool = True,
    ) -> str:
        """Commit ``files`` (the whole new tree) on branch or ref ``revision`` of a repository.

        ``revision`` is a branch name (``"main"``, ``"dev"``) or a full ref such as
        ``"refs/convert/parquet"`` or ``"refs/pr/1"``. Returns the new commit sha.
        """
        snapshot = self._read_files(files, in_memory)
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                raise KeyError(f"unknown {repo_type} repository {repo_id!r}: call add_repo first")
            ref = full_ref(revision)
            lfs_patterns = self._gitattributes_lfs_patterns(snapshot.get(".gitattributes"))
            entries = {
                path: FileEntry(blob, self._is_lfs(path, blob, lfs_patterns))
                for path, blob in sorted(snapshot.items())
            }
            for entry in entries.values():
                if entry.lfs:
                    self._blobs_by_sha256.setdefault(entry.blob.sha256, entry.blob)
            parent = repo.refs.get(ref)
            self._counter += 1
            digest = hashlib.sha1(
                f"commit\0{repo_type}/{repo_id}\0{ref}\0{parent}\0{self._counter}\0".encode()
            )
            for path, entry in entries.items():
                digest.update(f"{path}\0{entry.oid}\0".encode())
            sha = digest.hexdigest()
            repo.commits[sha] = Commit(
                sha=sha,
                files=entries,
                parent=parent,
                message=message or f"Update {revision}",
                date=datetime.now(timezone.utc),
            )
            repo.refs[ref] = sha
            return sha

    def add_tag(
        self, repo_id: str, tag: str, revision: str = "main", *, repo_type: RepoType = "dataset"
    ) -> str:
        """Point git tag ``tag`` at ``revision``; returns the tagged commit sha."""
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            commit = repo.resolve(revision) if repo is not None else None
            if repo is None or commit is None:
                raise KeyError(f"unknown repository/revision {repo_id!r}@{revision!r}")
            repo.refs[f"refs/tags/{tag}"] = commit.sha
            return commit.sha

    def remove_repo(self, repo_id: str, *, repo_type: RepoType = "dataset") -> None:
        """Delete a repository (later requests get ``RepoNotFound``)."""
        with self._lock:
            self._repos.pop((repo_type, repo_id), None)

    def revision_sha(
        self, repo_id: str, revision: str = "main", *, repo_type: RepoType = "dataset"
    ) -> str:
        """Commit sha that ``revision`` currently points to."""
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            commit = repo.resolve(revision) if repo is not None else None
            if commit is None:
                raise KeyError(f"unknown repository/revision {repo_id!r}@{revision!r}")
            return commit.sha

    def repo_ids(self, repo_type: RepoType = "dataset") -> list[str]:
        """Ids of the repositories of one type, in creation order."""
        with self._lock:
            return [rid for (rtype, rid) in self._repos if rtype == repo_type]

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _read_files(files: FilesSource, in_memory: bool) -> dict[str, Blob]:
        if isinstance(files, Mapping):
            out: dict[str, Blob] = {}
            for raw_path, content in files.items():
                path = "/".join(p for p in str(raw_path).replace("\\", "/").split("/") if p)
                if not path or ".." in path.split("/"):
                    raise ValueError(f"invalid path in repository: {raw_path!r}")
                out[path] = Blob.from_bytes(content)
            return out
        root = Path(files)
        if not root.is_dir():
            raise NotADirectoryError(f"not a folder: {root}")
        out = {}
        for file in sorted(root.rglob("*")):
            rel = file.relative_to(root).as_posix()
            if rel.split("/")[0] == ".git" or rel.startswith(".cache/huggingface"):
                continue
            if file.is_file():
                out[rel] = Blob.from_file(file, in_memory)
        return out

    @staticmethod
    def _gitattributes_lfs_patterns(blob: Blob | None) -> list[str]:
        if blob is None:
            return []
        patterns = []
        for line in blob.read().decode("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
                patterns.append(parts[0])
        return patterns

    def _is_lfs(self, path: str, blob: Blob, patterns: Sequence[str]) -> bool:
        if path == ".gitattributes":
            return False
        if blob.size >= self.lfs_threshold:
            return True
        name = path.rsplit("/", 1)[-1]
        if Path(name).suffix.lower() in self.lfs_extensions:
            return True
        for pattern in patterns:
            pat = pattern.lstrip("/")
            target = path if "/" in pat else name
            if fnmatchcase(target, pat.replace("**/", "*")) or fnmatchcase(target, pat):
                return True
        return False

    # ---------------------------------------------------------------- queries (Hub API)

    def match(self, repo_type: RepoType, parts: Sequence[str]) -> RepoMatch:
        """The longest known repository id at the start of ``parts`` (2 segments, else 1).

        Parameters
        ----------
        repo_type : {"dataset", "model", "space"}
            Repository type.
        parts : Sequence[str]
            Decoded path segments starting with the repository id.

        Examples
        --------
        >>> store = RepoStore()
        >>> _ = store.add_repo("demo/tiny", {"a.txt": b"a"})
        >>> found = store.match("dataset", ["demo", "tiny", "tree", "main"])
        >>> found.repo_id, found.rest, store.match("dataset", ["no", "such"]).repo
        ('demo/tiny', ['tree', 'main'], None)
        """
        with self._lock:
            for size in (2, 1):
                if len(parts) >= size and (repo_type, "/".join(parts[:size])) in self._repos:
                    repo = self._repos[(repo_type, "/".join(parts[:size]))]
                    return RepoMatch(repo, repo.repo_id, list(parts[size:]))
        return RepoMatch(None, "/".join(parts[:2]), list(parts[2:]))

    def user_name(self, token: str) -> str | None:
        """The user a token was registered for (:meth:`add_user`), or ``None``.

        Parameters
        ----------
        token : str
            An access token.

        Examples
        --------
        >>> store = RepoStore()
        >>> store.add_user("hf_secret", "alice")
        >>> store.user_name("hf_secret"), store.user_name("hf_other")
        ('alice', None)
        """
        with self._lock:
            return self._users.get(token)

    def repos(self, repo_type: RepoType) -> list[Repo]:
        """The repositories of one type, in creation order.

        Parameters
        ----------
        repo_type : {"dataset", "model", "space"}
            Repository type.

        Examples
        --------
        >>> store = RepoStore()
        >>> _ = store.add_repo("demo/tiny", {"a.txt": b"a"})
        >>> [r.repo_id for r in store.repos("dataset")], store.repos("model")
        (['demo/tiny'], [])
        """
        with self._lock:
            return [repo for (rtype, _), repo in self._repos.items() if rtype == repo_type]

    def resolve(self, repo: Repo, revision: str) -> Commit | None:
        """The commit a branch, tag, full ref or sha of ``repo`` points to, or ``None``.

        Parameters
        ----------
        repo : Repo
            A repository of this store.
        revision : str
            Branch or tag name, full ref (``refs/convert/parquet``) or commit sha.

        Examples
        --------
        >>> store = RepoStore()
        >>> sha = store.add_repo("demo/tiny", {"a.txt": b"a"})
        >>> repo = store.match("dataset", ["demo", "tiny"]).repo
        >>> store.resolve(repo, "main").sha == sha, store.resolve(repo, "nope")
        (True, None)
        """
        with self._lock:
            return repo.resolve(revision)

    def history(self, repo: Repo, commit: Commit) -> list[Commit]:
        """``commit`` then its ancestors, newest first.

        Parameters
        ----------
        repo : Repo
            The repository of ``commit``.
        commit : Commit
            The newest commit.

        Examples
        --------
        >>> store = RepoStore()
        >>> first = store.add_repo("demo/tiny", {"a.txt": b"a"})
        >>> second = store.add_revision("demo/tiny", "main", {"a.txt": b"b"})
        >>> repo = store.match("dataset", ["demo", "tiny"]).repo
        >>> [c.sha for c in store.history(repo, store.resolve(repo, "main"))] == [second, first]
        True
        """
        out: list[Commit] = []
        current: Commit | None = commit
        with self._lock:
            while current is not None:
                out.append(current)
                current = repo.commits[current.parent] if current.parent else None
        return out

    def refs(self, repo: Repo) -> list[tuple[str, str]]:
        """``(full ref, commit sha)`` pairs of ``repo``, sorted by ref.

        Parameters
        ----------
        repo : Repo
            A repository of this store.

        Examples
        --------
        >>> store = RepoStore()
        >>> sha = store.add_repo("demo/tiny", {"a.txt": b"a"})
        >>> store.refs(store.match("dataset", ["demo", "tiny"]).repo) == [("refs/heads/main", sha)]
        True
        """
        with self._lock:
            return sorted(repo.refs.items())

    def lfs_blob(self, sha256: str) -> Blob | None:
        """The LFS blob with this sha256 (what the CDN serves), or ``None``.

        Parameters
        ----------
        sha256 : str
            Hex sha256 of the content.

        Examples
        --------
        >>> import hashlib
        >>> store = RepoStore()
        >>> _ = store.add_repo("demo/tiny", {"x.parquet": b"PAR1"})
        >>> store.lfs_blob(hashlib.sha256(b"PAR1").hexdigest()).size
        4
        """
        with self._lock:
            return self._blobs_by_sha256.get(sha256)

    def count_download(self, repo: Repo) -> None:
        """Add one to the download counter of ``repo`` (a ``GET`` of one of its files).

        Parameters
        ----------
        repo : Repo
            A repository of this store.

        Examples
        --------
        >>> store = RepoStore()
        >>> _ = store.add_repo("demo/tiny", {"a.txt": b"a"}, downloads=41)
        >>> repo = store.match("dataset", ["demo", "tiny"]).repo
        >>> store.count_download(repo)
        >>> repo.downloads
        42
        """
        with self._lock:
            repo.downloads += 1
