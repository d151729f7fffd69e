"""``hf://datasets/owner/name[@revision]/path`` data files, resolved through the Hub source.

``datasets`` reads ``hf://`` URLs with ``huggingface_hub``'s ``HfFileSystem``, which honours
``HF_ENDPOINT``, the token, ``HF_HUB_OFFLINE`` and revisions (``@v1.0``,
``@refs/convert/parquet``). Polars' own ``hf://`` reader talks to the public Hub whatever
``HF_ENDPOINT`` says, so such URLs never reach it: each is resolved against the repository's
listing by a :class:`~crucible_polars.sources.hub.HubSource` and becomes cached local files
(or, when streaming, that source's URLs on the configured endpoint).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

from crucible_polars.errors import DataFilesNotFoundError
from crucible_polars.resolve.patterns import has_magic, match_files
from crucible_polars.sources.hub import hub_source_for

_URL = re.compile(
    r"hf://datasets/(?P<repo>[^/@]+/[^/@]+)"
    r"(?:@(?P<rev>refs/(?:convert|pr)/[^/]+|[^/]+))?(?:/(?P<path>.*))?"
)


@dataclass(frozen=True)
class HfUrl:
    """The parts of an ``hf://datasets/...`` URL.

    Examples
    --------
    >>> HfUrl.parse("hf://datasets/me/data@refs/convert/parquet/default/train/0.parquet")
    HfUrl(repo_id='me/data', revision='refs/convert/parquet', path='default/train/0.parquet')
    >>> HfUrl.parse("hf://datasets/me/data@v1.0/*.csv").revision
    'v1.0'
    >>> HfUrl.parse("hf://datasets/me/data@refs%2Fconvert%2Fparquet/a.parquet").revision
    'refs/convert/parquet'
    """

    repo_id: str
    revision: str | None
    path: str

    @classmethod
    def parse(cls, url: str) -> HfUrl:
        """Split a URL; a model or Space URL, or one without a repo, raises ``ValueError``."""
        match = _URL.fullmatch(url)
        if match is None:
            raise ValueError(
                f"{url!r} is not an hf://datasets/<owner>/<name>[@revision]/<path> URL."
            )
        revision = unquote(match["rev"]) if match["rev"] else None
        return cls(match["repo"], revision, match["path"] or "")


def is_hf_url(path: str) -> bool:
    """Whether ``path`` is an ``hf://`` URL.

    Examples
    --------
    >>> is_hf_url("hf://datasets/a/b/x.csv"), is_hf_url("s3://a/b")
    (True, False)
    """
    return path.startswith("hf://")


def resolve_hf_pattern(
    url: str,
    *,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    force_download: bool = False,
    streaming: bool = False,
) -> list[str]:
    """The files an ``hf://`` path or glob names: cached local paths (downloaded once),
    or the endpoint's URLs when streaming.

    Raises :class:`~crucible_polars.errors.DataFilesNotFoundError` naming the URL when it
    matches nothing, and the Hub source's errors (unknown repo or revision, gated, offline
    cache miss) otherwise.
    """
    parsed = HfUrl.parse(url)
    source = hub_source_for(
        parsed.repo_id,
        revision=parsed.revision,
        token=token,
        cache_dir=cache_dir,
        force_download=force_download,
        streaming=streaming,
    )
    if source is None:
        raise DataFilesNotFoundError(url, f"{parsed.repo_id!r} is not a dataset repo id.")
    listing = source.list_files()
    path = parsed.path.strip("/")
    if not has_magic(path):
        matched = (
            [path] if path in listing else match_files(f"{path}/**" if path else "**", listing)
        )
    else:
        matched = match_files(path, listing)
    if not matched:
        raise DataFilesNotFoundError(url, f"No file of {parsed.repo_id!r} matches it.")
    return source.locate(matched)
