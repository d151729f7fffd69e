"""The test Hub server: serving in a thread, the requests it answered, and injected faults."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType

from crucible_polars.testing.hub.api import HubApi
from crucible_polars.testing.hub.context import HubSettings
from crucible_polars.testing.hub.faults import FaultQueue
from crucible_polars.testing.hub.handler import Backend, HubHTTPServer
from crucible_polars.testing.hub.records import RequestLog, RequestRecord
from crucible_polars.testing.hub.repo_store import RepoStore
from crucible_polars.testing.hub.storage import DEFAULT_LFS_THRESHOLD


class HubServer:
    """A local, thread-backed HTTP server speaking the HuggingFace Hub API.

    A ``HubServer`` composes a :class:`~.repo_store.RepoStore` (the repositories, as
    :attr:`repos`; its ``add_*`` methods, :meth:`~.repo_store.RepoStore.revision_sha`,
    :meth:`~.repo_store.RepoStore.repo_ids` and :meth:`~.repo_store.RepoStore.remove_repo` are
    offered here too), the Hub API that answers from it, a queue of injected faults and a log
    of answered requests.

    Repositories are snapshots of files: every :meth:`add_repo` / :meth:`add_revision` call
    creates a new commit (a 40-hex sha that is also accepted as a revision) replacing the whole
    tree of its branch, so a pinned sha keeps serving the old content after the branch moves on.

    Parameters
    ----------
    host : str, default "127.0.0.1"
        Interface to bind.
    port : int, default 0
        Port to bind; ``0`` picks a free port (read it from :attr:`port` after :meth:`start`).
    page_size : int, default 1000
        Entries per page of the ``tree`` endpoint (the Hub uses 1000, and 50 with ``expand``;
        expanded pages use ``min(page_size, 50)``). Set it small to exercise pagination; the
        attribute can be changed while the server runs.
    list_page_size : int, default 1000
        Items per page of ``/api/datasets`` and of the ``commits`` endpoint.
    lfs_redirect : bool, default False
        Answer ``resolve`` requests for LFS files with a ``302`` to a "CDN" URL on another host
        name of this server (``localhost`` vs ``127.0.0.1``), like the Hub redirects to its
        CDN, instead of serving the bytes directly.
    lfs_extensions : Iterable[str], optional
        Extensions treated as LFS files (default :data:`DEFAULT_LFS_EXTENSIONS`). Patterns
        marked ``filter=lfs`` in a repository's ``.gitattributes`` are honoured too.
    lfs_threshold : int, default 10 MiB
        Files at least this large are LFS files whatever their extension.
    reject_unknown_tokens : bool, default True
        Answer ``401 Invalid credentials in Authorization header`` to requests carrying a token
        the server does not know (the Hub does so even on public repositories).
    verbose : bool, default False
        Log every request to standard error.

    Examples
    --------
    >>> from huggingface_hub import HfApi
    >>> from crucible_polars.testing import HubServer
    >>> files = {
    ...     "README.md": b"---\\nlicense: mit\\n---\\n# Tiny\\n",
    ...     "data/train.jsonl": b'{"x": 1}\\n{"x": 2}\\n',
    ... }
    >>> with HubServer() as server:
    ...     sha = server.add_repo("demo/tiny", files)
    ...     api = HfApi(endpoint=server.url)
    ...     info = api.dataset_info("demo/tiny")
    ...     print(info.sha == sha, [s.rfilename for s in info.siblings], info.card_data.license)
    ...     print(server.count("GET", "/api/datasets/demo/tiny"))
    True ['README.md', 'data/train.jsonl'] mit
    1
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        page_size: int = 1000,
        list_page_size: int = 1000,
        lfs_redirect: bool = False,
        lfs_extensions: Iterable[str] | None = None,
        lfs_threshold: int = DEFAULT_LFS_THRESHOLD,
        reject_unknown_tokens: bool = True,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self._port = port
        self.repos = RepoStore(lfs_extensions=lfs_extensions, lfs_threshold=lfs_threshold)
        self.settings = HubSettings(
            page_size=page_size,
            list_page_size=list_page_size,
            lfs_redirect=lfs_redirect,
            reject_unknown_tokens=reject_unknown_tokens,
        )
        self.faults = FaultQueue()
        self.log = RequestLog(verbose=verbose)
        self._backend = Backend(HubApi(self.repos, self.settings), self.faults, self.log)
        self._httpd: HubHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # The repository methods, offered on the server itself (with their own signatures).
        self.add_repo = self.repos.add_repo
        self.add_revision = self.repos.add_revision
        self.add_tag = self.repos.add_tag
        self.add_user = self.repos.add_user
        self.remove_repo = self.repos.remove_repo
        self.revision_sha = self.repos.revision_sha
        self.repo_ids = self.repos.repo_ids

    # ---------------------------------------------------------------- settings

    @property
    def page_size(self) -> int:
        """Entries per ``tree`` page (may be changed while the server runs)."""
        return self.settings.page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        self.settings.page_size = value

    @property
    def list_page_size(self) -> int:
        """Items per page of ``/api/datasets`` and ``commits`` (may be changed while running)."""
        return self.settings.list_page_size

    @list_page_size.setter
    def list_page_size(self, value: int) -> None:
        self.settings.list_page_size = value

    @property
    def lfs_redirect(self) -> bool:
        """Whether LFS files are redirected to the "CDN" (may be changed while running)."""
        return self.settings.lfs_redirect

    @lfs_redirect.setter
    def lfs_redirect(self, value: bool) -> None:
        self.settings.lfs_redirect = value

    @property
    def reject_unknown_tokens(self) -> bool:
        """Whether unknown tokens get ``401`` (may be changed while running)."""
        return self.settings.reject_unknown_tokens

    @reject_unknown_tokens.setter
    def reject_unknown_tokens(self, value: bool) -> None:
        self.settings.reject_unknown_tokens = value

    @property
    def verbose(self) -> bool:
        """Whether every request is logged to standard error."""
        return self.log.verbose

    @verbose.setter
    def verbose(self, value: bool) -> None:
        self.log.verbose = value

    @property
    def lfs_extensions(self) -> frozenset[str]:
        """Extensions stored as LFS files."""
        return self.repos.lfs_extensions

    @property
    def lfs_threshold(self) -> int:
        """Size from which files are LFS files whatever their extension."""
        return self.repos.lfs_threshold

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The bound port (the requested one before :meth:`start`)."""
        return self._httpd.server_port if self._httpd is not None else self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765``: use it as ``HF_ENDPOINT``."""
        if self.port == 0:
            raise RuntimeError("HubServer(port=0) has no URL before start()")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> HubServer:
        """Bind the socket and serve in a daemon thread; returns ``self``."""
        if self._httpd is not None:
            return self
        httpd = HubHTTPServer((self.host, self._port), self._backend)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"HubServer:{httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and release the port."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.close()
        if thread is not None:
            thread.join(timeout=5)
        self._port = httpd.server_port
        self._httpd = None
        self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Start (if needed) and block until ``KeyboardInterrupt``, then stop."""
        self.start()
        try:
            while self.running:
                threading.Event().wait(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # ---------------------------------------------------------------- counters & faults

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of every request answered since the last :meth:`reset_counters`."""
        return self.log.select(None, None, None)

    def count(
        self,
        method: str | None = None,
        path_substring: str | None = None,
        *,
        route: str | None = None,
    ) -> int:
        """Number of requests matching a method, a substring of the decoded path and a route."""
        return len(self.log.select(method, path_substring, route))

    def bytes_served(
        self,
        path_substring: str | None = None,
        *,
        method: str | None = None,
        route: str | None = None,
    ) -> int:
        """Response body bytes sent for requests whose decoded path contains the substring."""
        return sum(r.bytes_sent for r in self.log.select(method, path_substring, route))

    def reset_counters(self) -> None:
        """Forget the recorded requests."""
        self.log.clear()

    def fail_next(
        self,
        path_substring: str,
        after_bytes: int = 0,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        stall: float = 0.0,
        corrupt_at: int | None = None,
        reset: bool = False,
        rewrite: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Inject faults into the next ``times`` requests whose decoded path matches.

        Without ``status``, the connection is cut after ``after_bytes`` body bytes of the next
        matching response that has a body (``HEAD`` requests are not affected), while the
        headers announced the full length: the client sees a truncated body. With ``status``
        (e.g. ``500``, ``503``, ``429``), the next matching requests are answered with that
        error status instead (with ``Retry-After: retry_after`` if given). With ``stall``,
        the answer comes only after that many seconds. With ``corrupt_at``, the body byte at
        that offset is changed (the length stays right: only a checksum can tell). With
        ``reset``, a cut is a connection reset rather than a clean close. With ``rewrite``,
        the body is replaced by ``rewrite(body)`` (same length: an answer that still parses
        but says something else).
        """
        self.faults.add(
            path_substring,
            times=times,
            after_bytes=after_bytes,
            status=status,
            retry_after=retry_after,
            stall=stall,
            corrupt_at=corrupt_at,
            reset=reset,
            rewrite=rewrite,
        )

    def clear_faults(self) -> None:
        """Drop pending :meth:`fail_next` rules."""
        self.faults.clear()
