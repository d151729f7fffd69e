"""``huggingface_hub``'s errors as :mod:`crucible_polars.errors`, with what to do.

Examples
--------
>>> from huggingface_hub.errors import OfflineModeIsEnabled
>>> from crucible_polars.errors import OfflineCacheMissError
>>> context = HubContext("org/x", None, "https://huggingface.co", token_sent=False)
>>> try:
...     with translate_hub_errors(context, list, "a.csv"):
...         raise OfflineModeIsEnabled("offline")
... except OfflineCacheMissError as err:
...     print(err.missing)
['a.csv']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from huggingface_hub import constants, get_token
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from crucible_polars.errors import (
    DataFilesNotFoundError,
    DatasetNotFoundError,
    HubAccessError,
    OfflineCacheMissError,
)


@dataclass(frozen=True)
class HubContext:
    """What an error message about a Hub dataset names.

    Attributes
    ----------
    repo : str
        The dataset's repo id.
    revision : str or None
        The revision asked for.
    endpoint : str
        The Hub's address (for "ask for access on ...").
    token_sent : bool
        Whether a token was sent with the request.
    """

    repo: str
    revision: str | None
    endpoint: str
    token_sent: bool


@contextmanager
def translate_hub_errors(
    context: HubContext, refs: Callable[[], list[str]], path: str | None = None
) -> Iterator[None]:
    """Raise ``huggingface_hub`` errors again as our own, naming the repo (cause kept).

    Parameters
    ----------
    context
        The repo, revision, endpoint and whether a token was sent.
    refs
        Lists the repo's branches and tags (called only for an unknown revision).
    path
        The file being fetched, if any.

    Examples
    --------
    >>> try:
    ...     with translate_hub_errors(HubContext("org/x", None, "", False), list, "a.csv"):
    ...         raise OfflineModeIsEnabled("offline")
    ... except OfflineCacheMissError as err:
    ...     print(err.repo_id)
    org/x
    """
    repo = context.repo
    try:
        yield
    except GatedRepoError as err:
        raise HubAccessError(repo, _refusal(context, err)) from err
    except RevisionNotFoundError as err:
        raise DatasetNotFoundError(repo, context.revision, refs()) from err
    except RepositoryNotFoundError as err:
        raise DatasetNotFoundError(repo) from err
    except RemoteEntryNotFoundError as err:
        raise DataFilesNotFoundError(
            f"{repo}/{path}", "The file is not in the repository at that revision."
        ) from err
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        if not constants.is_offline_mode() and not isinstance(err, OfflineModeIsEnabled):
            raise
        raise OfflineCacheMissError(repo, [path or "the repository metadata"]) from err
    except HfHubHTTPError as err:
        if err.response is None or err.response.status_code not in (401, 403):
            raise
        raise HubAccessError(repo, _refusal(context, err)) from err


def access_detail(context: HubContext, status: int | None, gated: bool) -> str:
    """Why the Hub refused: no token, no access granted yet, or a token it did not accept.

    Parameters
    ----------
    context
        The repo, endpoint and whether a token was sent.
    status
        The HTTP status of the refusal.
    gated
        The Hub said the repository is gated.

    Examples
    --------
    >>> access_detail(HubContext("org/x", None, "", token_sent=False), 401, gated=False)
    'no token was sent'
    >>> access_detail(HubContext("org/x", None, "https://hub", token_sent=True), 403, gated=True)
    "the token's account has not been granted access; ask for it on https://hub/datasets/org/x"
    """
    if not context.token_sent:
        return "no token was sent"
    if gated and status == 403:
        return (
            "the token's account has not been granted access; ask for it on "
            f"{context.endpoint}/datasets/{context.repo}"
        )
    return f"the Hub did not accept the token (HTTP {status})"


def _refusal(context: HubContext, err: HfHubHTTPError) -> str:
    status = err.response.status_code if err.response is not None else None
    return access_detail(context, status, isinstance(err, GatedRepoError))


def token_available(token: str | bool | None) -> bool:
    """Whether a request would carry a token (the argument, ``HF_TOKEN`` or the stored login).

    Examples
    --------
    >>> token_available(False), token_available("hf_x")
    (False, True)
    """
    if token is False:
        return False
    return isinstance(token, str) or get_token() is not None
