"""Who may see what on the test Hub: tokens, private and gated repositories, revisions.

The Hub hides a private repository from a caller without access (``401`` without a token,
``404`` with one, both ``RepoNotFound``), keeps a gated repository's metadata public but its
files behind ``401``/``403`` ``GatedRepo``, and answers ``401`` to a token it does not know.
"""

from __future__ import annotations

from collections.abc import Sequence

from crucible_polars.testing.hub.context import Context
from crucible_polars.testing.hub.errors import HubError
from crucible_polars.testing.hub.storage import Commit, Repo

#: The URL prefix of each repository type on the Hub's web pages.
URL_PREFIX = {"dataset": "datasets/", "model": "", "space": "spaces/"}


def caller_token(ctx: Context) -> str | None:
    """The request's bearer token if the Hub knows it, else ``None`` (or ``401``).

    Parameters
    ----------
    ctx : Context
        The request's context.

    Raises
    ------
    HubError
        ``401`` for an unknown token when ``reject_unknown_tokens`` is set.

    Examples
    --------
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> store = RepoStore()
    >>> store.add_user("hf_known")
    >>> def token_of(header: str) -> str | None:
    ...     request = Request("GET", "/", "/", "", {"Authorization": header}, b"", "h:1", 1)
    ...     return caller_token(Context(request, Trace(), store, HubSettings()))
    >>> token_of("Bearer hf_known")
    'hf_known'
    """
    header = ctx.request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and ctx.store.user_name(token) is not None:
        return token
    if ctx.settings.reject_unknown_tokens:
        raise HubError(401, "Invalid credentials in Authorization header")
    return None


def visible_repo(repo: Repo | None, token: str | None) -> Repo:
    """``repo`` if the caller may see it, else the Hub's ``RepoNotFound`` error.

    Parameters
    ----------
    repo : Repo or None
        The repository addressed (``None``: no such repository).
    token : str or None
        The caller's known token.

    Raises
    ------
    HubError
        ``401`` (no token) or ``404`` (a token without access), ``RepoNotFound``.

    Examples
    --------
    >>> visible_repo(Repo(repo_type="dataset", repo_id="a/b"), None).repo_id
    'a/b'
    """
    if repo is None or (repo.private and token not in repo.tokens):
        if token is None:
            raise HubError(401, "Invalid username or password.", "RepoNotFound")
        raise HubError(404, "Repository not found", "RepoNotFound")
    return repo


def check_content_access(ctx: Context, repo: Repo, token: str | None) -> None:
    """Raise the Hub's ``GatedRepo`` error unless the caller may download ``repo``'s files.

    Parameters
    ----------
    ctx : Context
        The request's context (for the URL in the message).
    repo : Repo
        The repository.
    token : str or None
        The caller's known token.

    Raises
    ------
    HubError
        ``401`` (no token) or ``403`` (a token not granted access), ``GatedRepo``.

    Examples
    --------
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> request = Request("GET", "/", "/", "", {}, b"", "h:1", 1)
    >>> ctx = Context(request, Trace(), RepoStore(), HubSettings())
    >>> check_content_access(ctx, Repo(repo_type="dataset", repo_id="a/b", gated="auto"), None)
    Traceback (most recent call last):
    ...
    crucible_polars.testing.hub.errors.HubError: Access to dataset a/b is restricted. ...
    """
    if not repo.gated or token in repo.tokens:
        return
    kind = repo.repo_type
    if token is None:
        raise HubError(
            401,
            f"Access to {kind} {repo.repo_id} is restricted. You must have access to it "
            "and be authenticated to access it. Please log in.",
            "GatedRepo",
        )
    raise HubError(
        403,
        f"Access to {kind} {repo.repo_id} is restricted and you are not in the authorized "
        f"list. Visit {ctx.request.base_url}/{URL_PREFIX[kind]}{repo.repo_id} to ask for access.",
        "GatedRepo",
    )


def commit_at(ctx: Context, repo: Repo, revision: str) -> Commit:
    """The commit ``revision`` points to (noted in the trace), or ``RevisionNotFound``.

    Parameters
    ----------
    ctx : Context
        The request's context.
    repo : Repo
        The repository.
    revision : str
        Branch, tag, full ref or sha.

    Raises
    ------
    HubError
        ``404 RevisionNotFound``.

    Examples
    --------
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> store = RepoStore()
    >>> sha = store.add_repo("a/b", {"x": b"x"})
    >>> request = Request("GET", "/", "/", "", {}, b"", "h:1", 1)
    >>> ctx = Context(request, Trace(), store, HubSettings())
    >>> commit_at(ctx, store.match("dataset", ["a", "b"]).repo, "main").sha == sha
    True
    """
    ctx.trace.revision = revision
    commit = ctx.store.resolve(repo, revision)
    if commit is None:
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
    return commit


def split_revision(repo: Repo, parts: Sequence[str]) -> tuple[str, list[str]]:
    """Split ``[rev..., path...]`` where the revision may be an unencoded ``refs/...``.

    Parameters
    ----------
    repo : Repo
        The repository (its refs tell where a ``refs/...`` revision ends).
    parts : Sequence[str]
        Decoded path segments after ``resolve`` or ``tree``.

    Examples
    --------
    >>> repo = Repo(repo_type="dataset", repo_id="a/b", refs={"refs/convert/parquet": "c0"})
    >>> split_revision(repo, ["refs", "convert", "parquet", "d", "0.parquet"])
    ('refs/convert/parquet', ['d', '0.parquet'])
    >>> split_revision(repo, ["feature/x", "data.csv"]), split_revision(repo, [])
    (('feature/x', ['data.csv']), ('main', []))
    """
    if not parts:
        return "main", []
    if parts[0] == "refs" and len(parts) > 1:
        for end in range(len(parts), 1, -1):
            candidate = "/".join(parts[:end])
            if candidate in repo.refs:
                return candidate, list(parts[end:])
        return "/".join(parts[:3]), list(parts[3:])
    return parts[0], list(parts[1:])
