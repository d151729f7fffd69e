"""The Hub API of the test Hub: a route table from ``(method, path pattern)`` to functions.

:class:`HubApi` answers a :class:`~.context.Request` with a :class:`~.context.Response`
(never touching a socket): it finds the first :data:`ROUTES` entry whose method set and path
pattern match the (still percent-encoded) path, and calls it. Routes under
``/api/{type}/{repo}/...`` first find the repository and check that the caller may see it,
then dispatch on ``(method, action)`` through :data:`REPO_ROUTES`. Every Hub error is a
:class:`~.errors.HubError`, answered as the Hub answers it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from crucible_polars.testing.hub.access import (
    caller_token,
    check_content_access,
    commit_at,
    split_revision,
    visible_repo,
)
from crucible_polars.testing.hub.context import (
    Context,
    HubSettings,
    Params,
    Request,
    Response,
    Trace,
    error_response,
    json_response,
    paginate,
    param,
    segments,
    truthy,
)
from crucible_polars.testing.hub.downloads import REPO_TYPES, cdn, parquet, resolve
from crucible_polars.testing.hub.errors import HubError
from crucible_polars.testing.hub.payloads import (
    card,
    commit_json,
    entry_json,
    info_json,
    tags,
    tree_paths,
)
from crucible_polars.testing.hub.repo_store import RepoStore
from crucible_polars.testing.hub.storage import Repo

_EXPAND_PAGE_SIZE = 50  # the Hub caps expanded tree pages at 50 entries
_READ_METHODS = frozenset({"GET", "HEAD", "POST"})

RouteFunction = Callable[[Context, "re.Match[str]"], Response]
RepoRouteFunction = Callable[[Context, Repo, list[str], "str | None"], Response]


def _expand(params: Params) -> list[str]:
    return [v for key in ("expand", "expand[]") for v in params.get(key, []) if v]


def _raise(status: int, message: str) -> RouteFunction:
    def answer(ctx: Context, match: re.Match[str]) -> Response:
        raise HubError(status, message)

    return answer


_NOT_FOUND = "Sorry, we can't find the page you are looking for."

# ---------------------------------------------------------------- /api/{type}/{repo}/...


def _info_at(ctx: Context, repo: Repo, revision: str) -> Response:
    commit = commit_at(ctx, repo, revision)
    blobs = truthy(param(ctx.request.params, "blobs"))
    return json_response(info_json(repo, commit, blobs=blobs, expand=_expand(ctx.request.params)))


def _info_main(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    return _info_at(ctx, repo, "main")


def _info_revision(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    return _info_at(ctx, repo, "/".join(rest))


def _tree(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    revision, path_parts = split_revision(repo, rest)
    commit = commit_at(ctx, repo, revision)
    path = "/".join(path_parts).strip("/")
    if path and not commit.is_dir(path):
        raise HubError(404, "Entry not found", "EntryNotFound", [("X-Repo-Commit", commit.sha)])
    params = ctx.request.params
    expand = truthy(param(params, "expand"))
    paths = tree_paths(commit, path, truthy(param(params, "recursive")))
    page_size = max(1, ctx.settings.page_size)
    if expand:
        page_size = min(page_size, _EXPAND_PAGE_SIZE)
    history = ctx.store.history(repo, commit) if expand else [commit]
    return paginate(
        ctx.request,
        paths,
        page_size,
        [("X-Repo-Commit", commit.sha)],
        lambda p: entry_json(history, p, expand=expand),
    )


def _paths_info(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    commit = commit_at(ctx, repo, "/".join(rest) or "main")
    content_type = (ctx.request.headers.get("Content-Type") or "").lower()
    paths: list[str]
    expand_value: Any
    if "json" in content_type:
        try:
            body = json.loads(ctx.request.body or b"{}")
        except json.JSONDecodeError as exc:
            raise HubError(400, "Invalid JSON body") from exc
        raw_paths = body.get("paths", [])
        paths = [raw_paths] if isinstance(raw_paths, str) else [str(p) for p in raw_paths]
        expand_value = body.get("expand")
    else:
        form = parse_qs(ctx.request.body.decode("utf-8", "replace"), keep_blank_values=True)
        paths = form.get("paths", []) + form.get("paths[]", [])
        expand_value = param(form, "expand")
    expand = expand_value is True or (isinstance(expand_value, str) and truthy(expand_value))
    history = ctx.store.history(repo, commit) if expand else [commit]
    entries = [entry_json(history, raw.strip("/"), expand=expand) for raw in paths]
    found = [entry for entry in entries if entry is not None]
    return json_response(found, headers=[("X-Repo-Commit", commit.sha)])


_REF_GROUPS = {
    "refs/heads/": "branches",
    "refs/tags/": "tags",
    "refs/convert/": "converts",
    "refs/pr/": "pullRequests",
}


def _refs(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    groups: dict[str, list[dict[str, str]]] = {
        "branches": [],
        "converts": [],
        "tags": [],
        "pullRequests": [],
    }
    for ref, sha in ctx.store.refs(repo):
        for prefix, group in _REF_GROUPS.items():
            if ref.startswith(prefix):
                name = ref[len(prefix) :]
                groups[group].append({"name": name, "ref": ref, "targetCommit": sha})
    if not truthy(param(ctx.request.params, "include_prs")):
        del groups["pullRequests"]
    return json_response(groups)


def _commits(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    commit = commit_at(ctx, repo, "/".join(rest) or "main")
    history = ctx.store.history(repo, commit)
    return paginate(ctx.request, history, ctx.settings.list_page_size, render=commit_json)


def _auth_check(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    check_content_access(ctx, repo, token)
    return json_response({})


@dataclass(frozen=True)
class RepoRoute:
    """A route under ``/api/{type}/{repo}/``, chosen by method and first segment (action).

    Attributes
    ----------
    methods : frozenset[str]
        HTTP methods it answers.
    action : str
        The first segment after the repository id (``"info"`` when there is none).
    name : str
        Its name in the :class:`~.records.RequestRecord`.
    answer : Callable
        ``answer(ctx, repo, rest, token)``: ``rest`` holds the decoded segments after the
        action, ``token`` the caller's known token.
    bare : bool
        Answer only when nothing follows the action.
    repo_types : frozenset[str] or None
        Repository types it applies to (``None``: all).
    """

    methods: frozenset[str]
    action: str
    name: str
    answer: RepoRouteFunction
    bare: bool = False
    repo_types: frozenset[str] | None = None

    def accepts(self, method: str, action: str, rest: list[str], repo: Repo) -> bool:
        """Whether this route answers ``method`` on ``action`` for ``repo``."""
        return (
            method in self.methods
            and action == self.action
            and not (self.bare and rest)
            and (self.repo_types is None or repo.repo_type in self.repo_types)
        )


_GET = frozenset({"GET"})

#: The routes under ``/api/{type}/{repo}/``, tried in order.
REPO_ROUTES: tuple[RepoRoute, ...] = (
    RepoRoute(_GET, "info", "info", _info_main),
    RepoRoute(_GET, "revision", "info", _info_revision),
    RepoRoute(_GET, "tree", "tree", _tree),
    RepoRoute(frozenset({"POST"}), "paths-info", "paths-info", _paths_info),
    RepoRoute(_GET, "refs", "refs", _refs, bare=True),
    RepoRoute(_GET, "commits", "commits", _commits),
    RepoRoute(_GET, "auth-check", "auth-check", _auth_check),
    RepoRoute(
        frozenset({"GET", "HEAD"}), "parquet", "parquet", parquet, repo_types=frozenset({"dataset"})
    ),
)


def _repo_api(ctx: Context, match: re.Match[str]) -> Response:
    """``/api/{type}/{repo}/...``: find and check the repository, then its route."""
    repo_type = REPO_TYPES[match.group("type")]
    token = caller_token(ctx)
    found = ctx.store.match(repo_type, segments(match.group("rest")))
    ctx.trace.repo_id = found.repo_id
    repo = visible_repo(found.repo, token)
    action, rest = (found.rest[0], found.rest[1:]) if found.rest else ("info", [])
    method = ctx.request.method
    for route in REPO_ROUTES:
        if route.accepts(method, action, rest, repo):
            ctx.trace.route = route.name
            return route.answer(ctx, repo, rest, token)
    raise HubError(404, _NOT_FOUND)


# ---------------------------------------------------------------- /api/...


def _list_repos(ctx: Context, match: re.Match[str]) -> Response:
    """``GET /api/{type}``: search, filter, sort and page the visible repositories."""
    token = caller_token(ctx)
    params = ctx.request.params
    searches = [s.lower() for s in params.get("search", []) if s]
    filters = [f for f in params.get("filter", []) if f]
    author = param(params, "author") or ""
    gated = param(params, "gated")
    full = truthy(param(params, "full"))
    expand = _expand(params)
    items: list[dict[str, Any]] = []
    for repo in ctx.store.repos(REPO_TYPES[match.group("type")]):
        if repo.private and token not in repo.tokens:
            continue
        if author and repo.author != author:
            continue
        if any(s not in repo.repo_id.lower() for s in searches):
            continue
        if gated is not None and bool(repo.gated) != truthy(gated):
            continue
        commit = repo.main_commit()
        data = info_json(
            repo, commit, blobs=False, expand=expand, siblings=full or "siblings" in expand
        )
        repo_tags = tags(repo, card(repo, commit) if commit else None)
        if any(f not in repo_tags and f != repo.repo_id for f in filters):
            continue
        if not full and not expand:
            data.pop("cardData", None)
        items.append(data)
    sort = param(params, "sort") or ""
    if sort:
        key = {"last_modified": "lastModified", "created_at": "createdAt"}.get(sort, sort)
        descending = (param(params, "direction") or "-1") != "1"
        items.sort(key=lambda d: (d.get(key) is not None, d.get(key) or 0), reverse=descending)
    limit_raw = param(params, "limit") or ""
    if limit_raw:
        items = items[: int(limit_raw)]
    return paginate(ctx.request, items, ctx.settings.list_page_size)


def _whoami(ctx: Context, match: re.Match[str]) -> Response:
    token = caller_token(ctx)
    name = ctx.store.user_name(token) if token is not None else None
    if name is None:
        raise HubError(401, "Invalid credentials in Authorization header")
    return json_response(
        {
            "type": "user",
            "id": hashlib.sha1(name.encode()).hexdigest()[:24],
            "name": name,
            "fullname": name,
            "email": None,
            "emailVerified": False,
            "canPay": False,
            "isPro": False,
            "periodEnd": None,
            "avatarUrl": "",
            "orgs": [],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": "crucible-test", "role": "read"},
            },
        }
    )


def _agent_harnesses(ctx: Context, match: re.Match[str]) -> Response:
    return json_response({"standardEnvVars": [], "harnesses": {}})


@dataclass(frozen=True)
class Route:
    """One entry of the route table.

    Attributes
    ----------
    methods : frozenset[str]
        HTTP methods it answers.
    pattern : re.Pattern
        Matched in full against the percent-encoded path, trailing ``/`` removed.
    name : str or None
        Its name in the :class:`~.records.RequestRecord` (``None``: the function names
        the request itself, or it stays ``"unknown"``).
    answer : Callable
        ``answer(ctx, match) -> Response``.
    """

    methods: frozenset[str]
    pattern: re.Pattern[str]
    name: str | None
    answer: RouteFunction


def _route(methods: str, pattern: str, name: str | None, answer: RouteFunction) -> Route:
    return Route(frozenset(methods.split("|")), re.compile(pattern), name, answer)


_TYPES = r"(?P<type>datasets|models|spaces)"
_REPO = r"(?P<repo>[^/]+(?:/[^/]+)?)"

#: The test Hub's routes, tried in order; the first whose method and pattern match answers.
ROUTES: tuple[Route, ...] = (
    _route("GET", r"/api/agent-harnesses", "agent-harnesses", _agent_harnesses),
    _route("GET", r"/api/whoami-v2", "whoami", _whoami),
    _route("GET", rf"/api/{_TYPES}", "list", _list_repos),
    _route("HEAD|POST", rf"/api/{_TYPES}", None, _raise(405, "Method not allowed")),
    _route("GET|HEAD|POST", rf"/api/{_TYPES}/(?P<rest>.+)", None, _repo_api),
    _route("GET|HEAD|POST", r"/api(?:/.*)?", None, _raise(404, _NOT_FOUND)),
    _route("GET|HEAD", r"/cdn-lfs(?:/(?P<rest>.*))?", "cdn", cdn),
    _route("POST", r"/cdn-lfs(?:/.*)?", "cdn", _raise(405, "Method not allowed")),
    _route("POST", r".*", None, _raise(405, "Method not allowed")),
    _route(
        "GET|HEAD",
        rf"/(?:(?P<type>datasets|spaces)/|(?!(?:datasets|spaces)(?:/|$))){_REPO}"
        r"/resolve(?:/(?P<rest>.*))?",
        "resolve",
        resolve,
    ),
)


class HubApi:
    """The Hub API over a :class:`~.repo_store.RepoStore`: a request in, a response out.

    Parameters
    ----------
    store : RepoStore
        The repositories served.
    settings : HubSettings
        Page sizes, LFS redirection and token policy (read at every request).

    Examples
    --------
    >>> store = RepoStore()
    >>> _ = store.add_repo("demo/tiny", {"a.txt": b"a"})
    >>> api = HubApi(store, HubSettings())
    >>> path = "/api/datasets/demo/tiny/tree/main"
    >>> trace = Trace()
    >>> answer = api.answer(Request("GET", path, path, "", {}, b"", "h:1", 1), trace)
    >>> answer.status, json.loads(b"".join(answer.chunks))[0]["path"], trace
    (200, 'a.txt', Trace(route='tree', repo_id='demo/tiny', revision='main'))
    """

    def __init__(self, store: RepoStore, settings: HubSettings) -> None:
        self.store = store
        self.settings = settings

    def answer(self, request: Request, trace: Trace) -> Response:
        """Answer ``request``, noting its route, repository and revision in ``trace``.

        Parameters
        ----------
        request : Request
            The request.
        trace : Trace
            Filled in as the request is routed (also when it ends in an error answer).

        Examples
        --------
        >>> api = HubApi(RepoStore(), HubSettings())
        >>> api.answer(Request("PUT", "/x", "/x", "", {}, b"", "h:1", 1), Trace()).status
        405
        """
        ctx = Context(request, trace, self.store, self.settings)
        try:
            if request.method not in _READ_METHODS:
                raise HubError(405, f"{request.method} is not supported by the read-only test Hub")
            path = request.raw_path.rstrip("/")
            for route in ROUTES:
                match = route.pattern.fullmatch(path)
                if match is not None and request.method in route.methods:
                    if route.name is not None:
                        trace.route = route.name
                    return route.answer(ctx, match)
            raise HubError(404, _NOT_FOUND)
        except HubError as error:
            return error_response(error)
