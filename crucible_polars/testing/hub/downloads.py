"""The Hub routes that serve file content: ``resolve``, the LFS "CDN" and ``/parquet``.

Files are served with the Hub's headers (``ETag``, ``X-Repo-Commit``, ``X-Linked-Etag``,
``X-Linked-Size``) and one byte range at most (``206``, or ``416`` when unsatisfiable).
"""

from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

from crucible_polars.testing.hub.access import (
    URL_PREFIX,
    caller_token,
    check_content_access,
    commit_at,
    split_revision,
    visible_repo,
)
from crucible_polars.testing.hub.context import (
    Context,
    Response,
    body_response,
    json_response,
    segments,
)
from crucible_polars.testing.hub.errors import HubError
from crucible_polars.testing.hub.payloads import parquet_files
from crucible_polars.testing.hub.ranges import parse_range
from crucible_polars.testing.hub.storage import Blob, FileEntry, Repo, RepoType

_SHA64 = re.compile(r"[0-9a-f]{64}")
#: Repository types by their plural in URLs.
REPO_TYPES: dict[str, RepoType] = {"datasets": "dataset", "models": "model", "spaces": "space"}


def _content_type(name: str) -> tuple[str, str]:
    return ("Content-Type", mimetypes.guess_type(name)[0] or "application/octet-stream")


def serve_blob(ctx: Context, blob: Blob, headers: list[tuple[str, str]]) -> Response:
    """``blob``'s bytes, or the one range the request's ``Range`` header asks for.

    Parameters
    ----------
    ctx : Context
        The request's context.
    blob : Blob
        The content.
    headers : list[tuple[str, str]]
        Headers of the file.

    Examples
    --------
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> request = Request("GET", "/", "/", "", {"Range": "bytes=-3"}, b"", "h:1", 1)
    >>> answer = serve_blob(Context(request, Trace(), RepoStore(), HubSettings()),
    ...                     Blob.from_bytes(b"0123456789"), [])
    >>> answer.status, answer.headers, list(answer.chunks)
    (206, [('Content-Range', 'bytes 7-9/10')], [b'789'])
    """
    size = blob.size
    range_header = ctx.request.headers.get("Range")
    span = None
    if range_header and ctx.request.method == "GET":
        span = parse_range(range_header, size)
    if span is None:
        return Response(200, headers, size, blob.iter_range(0, size))
    start, stop = span
    headers = [*headers, ("Content-Range", f"bytes {start}-{stop - 1}/{size}")]
    return Response(206, headers, stop - start, blob.iter_range(start, stop))


def _file_headers(path: str, entry: FileEntry) -> list[tuple[str, str]]:
    name = path.rsplit("/", 1)[-1]
    headers = [_content_type(name), ("ETag", f'"{entry.etag}"'), ("Accept-Ranges", "bytes")]
    if entry.lfs:
        ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
        headers.append(
            (
                "Content-Disposition",
                f"inline; filename*=UTF-8''{quote(name)}; filename=\"{ascii_name}\";",
            )
        )
    return headers


def _redirect(target: str, headers: list[tuple[str, str]]) -> Response:
    body = f"Found. Redirecting to {target}".encode()
    headers = [*headers, ("Location", target), ("Content-Type", "text/plain")]
    return body_response(302, headers, body)


def resolve(ctx: Context, match: re.Match[str]) -> Response:
    """``HEAD|GET /[{type}/]{repo}/resolve/{rev}/{path}``: a file of a commit.

    Parameters
    ----------
    ctx : Context
        The request's context.
    match : re.Match
        The route's match (groups ``type``, ``repo``, ``rest``).

    Examples
    --------
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> store = RepoStore()
    >>> _ = store.add_repo("a/b", {"x.txt": b"hello"})
    >>> path = "/datasets/a/b/resolve/main/x.txt"
    >>> request = Request("GET", path, path, "", {}, b"", "h:1", 1)
    >>> found = re.fullmatch(r"/(?P<type>datasets)/(?P<repo>a/b)/resolve/(?P<rest>.*)", path)
    >>> answer = resolve(Context(request, Trace(), store, HubSettings()), found)
    >>> answer.status, list(answer.chunks)
    (200, [b'hello'])
    """
    repo_type = REPO_TYPES[match.group("type")] if match.group("type") else "model"
    token = caller_token(ctx)
    found = ctx.store.match(repo_type, segments(match.group("repo")))
    ctx.trace.repo_id = found.repo_id
    repo = visible_repo(found.repo, token)
    check_content_access(ctx, repo, token)
    revision, path_parts = split_revision(repo, segments(match.group("rest")))
    commit = commit_at(ctx, repo, revision)
    path = "/".join(path_parts)
    entry = commit.files.get(path)
    repo_headers = [("X-Repo-Commit", commit.sha)]
    if entry is None:
        raise HubError(404, "Entry not found", "EntryNotFound", repo_headers)
    if entry.lfs:
        repo_headers += [
            ("X-Linked-Etag", f'"{entry.blob.sha256}"'),
            ("X-Linked-Size", str(entry.blob.size)),
        ]
    if ctx.request.method == "GET":
        ctx.store.count_download(repo)
    if entry.lfs and ctx.settings.lfs_redirect:
        host = ctx.request.host.rsplit(":", 1)[0]
        other = "localhost" if host != "localhost" else "127.0.0.1"
        target = (
            f"http://{other}:{ctx.request.port}/cdn-lfs/{URL_PREFIX[repo.repo_type]}"
            f"{repo.repo_id}/{entry.blob.sha256}/{quote(path)}"
        )
        return _redirect(target, repo_headers)
    return serve_blob(ctx, entry.blob, [*_file_headers(path, entry), *repo_headers])


def cdn(ctx: Context, match: re.Match[str]) -> Response:
    """``HEAD|GET /cdn-lfs/[{type}/]{repo}/{sha256}[/{name}]``: an LFS blob by its sha256.

    Parameters
    ----------
    ctx : Context
        The request's context.
    match : re.Match
        The route's match (group ``rest``).

    Examples
    --------
    >>> import hashlib
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> store = RepoStore()
    >>> _ = store.add_repo("a/b", {"x.parquet": b"PAR1"})
    >>> path = f"/cdn-lfs/datasets/a/b/{hashlib.sha256(b'PAR1').hexdigest()}/x.parquet"
    >>> request = Request("GET", path, path, "", {}, b"", "h:1", 1)
    >>> answer = cdn(Context(request, Trace(), store, HubSettings()),
    ...              re.fullmatch(r"/cdn-lfs/(?P<rest>.*)", path))
    >>> answer.status, list(answer.chunks)
    (200, [b'PAR1'])
    """
    parts = segments(match.group("rest"))
    for index, part in enumerate(parts):
        if _SHA64.fullmatch(part):
            blob = ctx.store.lfs_blob(part)
            if blob is None:
                break
            repo_parts = parts[1:index] if parts and parts[0] in REPO_TYPES else parts[:index]
            ctx.trace.repo_id = "/".join(repo_parts) or None
            name = parts[-1] if index + 1 < len(parts) else part
            etag = ("ETag", f'"{blob.sha256}"')
            return serve_blob(ctx, blob, [_content_type(name), etag, ("Accept-Ranges", "bytes")])
    raise HubError(404, "Not Found")


def parquet(ctx: Context, repo: Repo, rest: list[str], token: str | None) -> Response:
    """``GET /api/datasets/{repo}/parquet[/{config}[/{split}[/{n}.parquet]]]``.

    Lists the ``refs/convert/parquet`` files by config and split, as URLs of this route; the
    ``{n}.parquet`` form redirects to the file's ``resolve`` URL.

    Parameters
    ----------
    ctx : Context
        The request's context.
    repo : Repo
        The repository.
    rest : list[str]
        Decoded segments after ``parquet``.
    token : str or None
        The caller's known token.

    Examples
    --------
    >>> from crucible_polars.testing.hub.context import HubSettings, Request, Trace
    >>> from crucible_polars.testing.hub.repo_store import RepoStore
    >>> store = RepoStore()
    >>> _ = store.add_repo("a/b", {"x.csv": b"x"})
    >>> _ = store.add_revision("a/b", "refs/convert/parquet", {"default/train/0.parquet": b""})
    >>> request = Request("GET", "/", "/", "", {}, b"", "h:1", 1)
    >>> ctx = Context(request, Trace(), store, HubSettings())
    >>> list(parquet(ctx, store.match("dataset", ["a", "b"]).repo, [], None).chunks)
    [b'{"default": {"train": ["http://h:1/api/datasets/a/b/parquet/default/train/0.parquet"]}}']
    """
    ctx.trace.revision = "refs/convert/parquet"
    files = parquet_files(ctx.store.resolve(repo, "refs/convert/parquet"))
    prefix = f"{ctx.request.base_url}/api/datasets/{repo.repo_id}/parquet"

    def urls(config: str, split: str) -> list[str]:
        names = sorted(files[config][split])
        return [f"{prefix}/{quote(config)}/{quote(split)}/{i}.parquet" for i in range(len(names))]

    not_found = HubError(404, "Entry not found", "EntryNotFound")
    if not rest:
        return json_response({c: {s: urls(c, s) for s in sorted(files[c])} for c in sorted(files)})
    if len(rest) == 1:
        if rest[0] not in files:
            raise not_found
        return json_response({s: urls(rest[0], s) for s in sorted(files[rest[0]])})
    if len(rest) == 2:
        if rest[1] not in files.get(rest[0], {}):
            raise not_found
        return json_response(urls(rest[0], rest[1]))
    if len(rest) == 3 and rest[2].endswith(".parquet") and rest[2][:-8].isdigit():
        check_content_access(ctx, repo, token)
        names = sorted(files.get(rest[0], {}).get(rest[1], []))
        index = int(rest[2][:-8])
        if index >= len(names):
            raise not_found
        target = (
            f"{ctx.request.base_url}/datasets/{repo.repo_id}/resolve/"
            f"{quote('refs/convert/parquet', safe='')}/{quote(names[index])}"
        )
        return _redirect(target, [])
    raise not_found
