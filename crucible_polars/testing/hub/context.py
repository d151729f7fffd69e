"""What a Hub API route receives and returns: the request, its trace, and the response.

The HTTP handler (:mod:`.handler`) builds a :class:`Request` from the socket and sends the
:class:`Response` a route returns; the routes (:mod:`.api`, :mod:`.downloads`) never touch
the socket. A route notes what it learnt about the request (route name, repository,
revision) in the :class:`Trace`, which becomes the :class:`~.records.RequestRecord`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlencode

from crucible_polars.testing.hub.errors import HubError
from crucible_polars.testing.hub.repo_store import RepoStore

Params = Mapping[str, list[str]]


class Headers(Protocol):
    """Case-insensitive header lookup (``email.message.Message`` or a ``dict``)."""

    def get(self, name: str, /) -> str | None:
        """The header's value, or ``None``."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, as the routes see it.

    Attributes
    ----------
    method : str
        ``GET``, ``HEAD``, ``POST``...
    raw_path : str
        The URL path, still percent-encoded (routes match on it, so that an encoded ``/``
        inside a revision stays inside its segment).
    path : str
        The percent-decoded URL path.
    query : str
        The raw query string.
    headers : Headers
        The request headers.
    body : bytes
        The request body.
    host : str
        ``host:port`` the client addressed (its ``Host`` header).
    port : int
        The port the server listens on.

    Examples
    --------
    >>> request = Request("GET", "/api/datasets", "/api/datasets", "limit=2&limit=3", {}, b"",
    ...                   "127.0.0.1:8765", 8765)
    >>> request.params["limit"], request.base_url
    (['2', '3'], 'http://127.0.0.1:8765')
    """

    method: str
    raw_path: str
    path: str
    query: str
    headers: Headers
    body: bytes
    host: str
    port: int
    params: Params = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", parse_qs(self.query, keep_blank_values=True))

    @property
    def base_url(self) -> str:
        """``http://host:port`` as the client addressed the server."""
        return f"http://{self.host}"


@dataclass
class Trace:
    """What a route learnt about a request, for its :class:`~.records.RequestRecord`.

    Attributes
    ----------
    route : str
        The route's name (``"unknown"`` until a route takes the request).
    repo_id : str or None
        The repository addressed.
    revision : str or None
        The revision requested.
    """

    route: str = "unknown"
    repo_id: str | None = None
    revision: str | None = None


@dataclass
class HubSettings:
    """The settings of a test Hub that may change while it runs (see ``HubServer``).

    Attributes
    ----------
    page_size : int
        Entries per ``tree`` page.
    list_page_size : int
        Items per page of repository listings and of ``commits``.
    lfs_redirect : bool
        Redirect ``resolve`` requests for LFS files to the "CDN".
    reject_unknown_tokens : bool
        Answer ``401`` to unknown tokens.
    """

    page_size: int = 1000
    list_page_size: int = 1000
    lfs_redirect: bool = False
    reject_unknown_tokens: bool = True


@dataclass(frozen=True)
class Context:
    """Everything a route works with: the request, its trace, the repositories, the settings.

    Attributes
    ----------
    request : Request
        The request answered.
    trace : Trace
        Where the route notes its name, repository and revision.
    store : RepoStore
        The repositories served.
    settings : HubSettings
        The server's current settings.
    """

    request: Request
    trace: Trace
    store: RepoStore
    settings: HubSettings


@dataclass(frozen=True)
class Response:
    """An answer: status, headers, body length and the body's chunks (produced lazily).

    Attributes
    ----------
    status : int
        HTTP status.
    headers : Sequence[tuple[str, str]]
        Headers, ``Content-Length`` excluded (the handler adds it from ``length``).
    length : int
        Body length announced.
    chunks : Iterable[bytes]
        The body (not sent for ``HEAD``).
    """

    status: int
    headers: Sequence[tuple[str, str]]
    length: int
    chunks: Iterable[bytes] = ()


def body_response(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> Response:
    """A response whose body is in memory.

    Parameters
    ----------
    status : int
        HTTP status.
    headers : Sequence[tuple[str, str]]
        Response headers.
    body : bytes
        The body.

    Examples
    --------
    >>> body_response(302, [("Location", "/x")], b"Found").length
    5
    """
    return Response(status, list(headers), len(body), [body])


def json_response(obj: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A JSON answer.

    Parameters
    ----------
    obj : Any
        What to serialize.
    status : int, default 200
        HTTP status.
    headers : Sequence[tuple[str, str]]
        Extra headers.

    Examples
    --------
    >>> json_response({"a": 1}).chunks
    [b'{"a": 1}']
    """
    content_type = ("Content-Type", "application/json; charset=utf-8")
    return body_response(status, [content_type, *headers], json.dumps(obj).encode())


def error_response(error: HubError) -> Response:
    """The Hub's error answer: JSON ``{"error": ...}`` and ``X-Error-Code``/``-Message``.

    Parameters
    ----------
    error : HubError
        The error answered.

    Examples
    --------
    >>> answer = error_response(HubError(404, "Entry not found", "EntryNotFound"))
    >>> answer.status, dict(answer.headers)["X-Error-Code"]
    (404, 'EntryNotFound')
    """
    headers = [*error.headers, ("X-Error-Message", error.message)]
    if error.code is not None:
        headers.append(("X-Error-Code", error.code))
    if error.status in (401, 403) and error.code in (None, "RepoNotFound"):
        headers.append(("WWW-Authenticate", 'Bearer realm="Authentication required"'))
    return json_response({"error": error.message}, error.status, headers)


def param(params: Params, name: str) -> str | None:
    """The first value of a query (or form) parameter, or ``None``.

    Parameters
    ----------
    params : Mapping[str, list[str]]
        Parsed query string.
    name : str
        Parameter name.

    Examples
    --------
    >>> param({"a": ["1", "2"]}, "a"), param({}, "a")
    ('1', None)
    """
    values = params.get(name)
    return values[0] if values else None


def truthy(value: str | None) -> bool:
    """Whether a query value means *true* (``1``, ``true``, ``yes``, ``on``).

    Parameters
    ----------
    value : str or None
        The value.

    Examples
    --------
    >>> truthy("True"), truthy("0"), truthy(None)
    (True, False, False)
    """
    return value is not None and value.strip().lower() in {"1", "true", "yes", "on"}


def cursor(params: Params) -> int:
    """The start offset encoded in a ``cursor`` parameter (``0`` without one).

    Parameters
    ----------
    params : Mapping[str, list[str]]
        Parsed query string.

    Raises
    ------
    HubError
        ``400`` for a cursor this server did not write.

    Examples
    --------
    >>> cursor({"cursor": ["NTA"]}), cursor({})
    (50, 0)
    """
    raw = param(params, "cursor") or ""
    if not raw:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise HubError(400, f"Invalid cursor: {raw}") from exc


def paginate(
    request: Request,
    items: Sequence[Any],
    page_size: int,
    headers: Sequence[tuple[str, str]] = (),
    render: Callable[[Any], Any] | None = None,
) -> Response:
    """One page of ``items`` as JSON, with a ``Link: rel="next"`` header if more follow.

    Parameters
    ----------
    request : Request
        The request (its ``cursor`` parameter selects the page).
    items : Sequence
        Every item.
    page_size : int
        Items per page (at least 1).
    headers : Sequence[tuple[str, str]]
        Headers sent with every page.
    render : Callable, optional
        Turns an item of the page into JSON (applied to that page only).

    Examples
    --------
    >>> request = Request("GET", "/api/x", "/api/x", "", {}, b"", "h:1", 1)
    >>> page = paginate(request, [1, 2, 3], 2, render=str)
    >>> page.chunks, dict(page.headers)["Link"]
    ([b'["1", "2"]'], '<http://h:1/api/x?cursor=Mg>; rel="next"')
    """
    size = max(1, page_size)
    start = cursor(request.params)
    page = list(items[start : start + size])
    out = list(headers)
    if start + size < len(items):
        query = [(k, v) for k, vs in request.params.items() if k != "cursor" for v in vs]
        token = base64.urlsafe_b64encode(str(start + size).encode()).decode().rstrip("=")
        url = f"{request.base_url}{request.raw_path}?{urlencode([*query, ('cursor', token)])}"
        out.append(("Link", f'<{url}>; rel="next"'))
    return json_response(page if render is None else [render(item) for item in page], headers=out)


def segments(raw: str | None) -> list[str]:
    """The percent-decoded segments of a (part of a) raw URL path.

    Parameters
    ----------
    raw : str or None
        Percent-encoded path part; ``None`` or ``""`` has no segments.

    Examples
    --------
    >>> segments("main/refs%2Fpr%2F1/a%20b.csv"), segments(None)
    (['main', 'refs/pr/1', 'a b.csv'], [])
    """
    return [unquote(s) for s in raw.split("/")] if raw else []
