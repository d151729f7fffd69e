"""Errors of the Hugging Face Hub: not found, gated or private, offline, loading script.

Examples
--------
>>> isinstance(HubAccessError("org/private"), PermissionError)
True
"""

from __future__ import annotations

from collections.abc import Sequence

from crucible_polars.errors.base import HubError
from crucible_polars.errors.data import DataFilesNotFoundError


class DatasetNotFoundError(HubError, DataFilesNotFoundError):
    """A Hub dataset, or a revision of it, that does not exist or that the credentials cannot see.

    Also a :class:`DataFilesNotFoundError` (so a ``FileNotFoundError``): ``load_dataset(name)``
    may read ``name`` as a local path or as a Hub id, and one ``except`` catches both misses.
    The message never contains the token.

    Parameters
    ----------
    repo_id, revision, available
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    repo_id : str
        The dataset's repo id (also ``path``).
    revision : str or None
        The revision that does not exist, or ``None`` when the dataset itself does not.
    available : list of str
        The dataset's branches and tags, when the revision is missing.

    Examples
    --------
    >>> err = DatasetNotFoundError("org/name", revision="v2", available=["main", "v1"])
    >>> err.repo_id, err.revision, err.available
    ('org/name', 'v2', ['main', 'v1'])
    >>> str(err)
    "Revision 'v2' doesn't exist for dataset 'org/name' on the Hub. Branches and tags: main, v1."
    """

    def __init__(
        self, repo_id: str, revision: str | None = None, available: Sequence[str] = ()
    ) -> None:
        self.repo_id = repo_id
        self.revision = revision
        self.available = list(available)
        super().__init__(repo_id)

    def _message(self, hint: str | None) -> str:
        if self.revision is None:
            return (
                f"Dataset {self.repo_id!r} doesn't exist on the Hub or cannot be accessed (nor "
                "is it a local file or folder). Check the name; if the dataset is private, pass "
                "token=..., set HF_TOKEN, or run `hf auth login`."
            )
        message = (
            f"Revision {self.revision!r} doesn't exist for dataset {self.repo_id!r} on the Hub."
        )
        if self.available:
            message += f" Branches and tags: {', '.join(self.available)}."
        return message


class HubAccessError(HubError, PermissionError):
    """A gated or private Hub repository that the current credentials cannot read.

    The message never contains the token.

    Parameters
    ----------
    repo_id
        The attribute of the same name (see Attributes).
    detail
        What the Hub answered, for the message (never the token).

    Attributes
    ----------
    repo_id : str
        The repository.

    Examples
    --------
    >>> HubAccessError("org/private").repo_id
    'org/private'
    """

    def __init__(self, repo_id: str, detail: str = "") -> None:
        self.repo_id = repo_id
        super().__init__(
            f"Cannot access dataset {repo_id!r}{': ' + detail if detail else ''}. "
            "It is gated or private: accept its conditions on the Hub, then pass token=..., "
            "set HF_TOKEN, or run `hf auth login`."
        )


class OfflineCacheMissError(HubError, FileNotFoundError):
    """Offline mode (``HF_HUB_OFFLINE=1``) and a file that is not in the cache.

    Parameters
    ----------
    repo_id, missing
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    repo_id : str
        The dataset.
    missing : list of str
        The files of it that are not cached.

    Examples
    --------
    >>> OfflineCacheMissError("openai/gsm8k", ["main/test.parquet"]).missing
    ['main/test.parquet']
    """

    def __init__(self, repo_id: str, missing: Sequence[str]) -> None:
        self.repo_id = repo_id
        self.missing = list(missing)
        super().__init__(
            f"Offline mode is on and {repo_id!r} is not fully cached; missing: "
            f"{', '.join(self.missing[:5])}{' ...' if len(self.missing) > 5 else ''}. "
            "Load it once online (unset HF_HUB_OFFLINE), then offline loads work."
        )


class LoadingScriptError(HubError, RuntimeError):
    """A Hub dataset defined by a loading script, with no parquet conversion to load instead.

    crucible_polars never runs loading scripts (``datasets`` >= 4 refuses them too).

    Parameters
    ----------
    repo_id, script
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    repo_id : str
        The dataset.
    script : str
        The loading script's file name.

    Examples
    --------
    >>> err = LoadingScriptError("org/legacy", "legacy.py")
    >>> err.repo_id, err.script
    ('org/legacy', 'legacy.py')
    """

    def __init__(self, repo_id: str, script: str) -> None:
        self.repo_id = repo_id
        self.script = script
        super().__init__(
            f"Dataset {repo_id!r} is defined by a loading script ({script}), which "
            "crucible_polars never runs, and the Hub has no parquet conversion of it "
            "(refs/convert/parquet). Pass data_files=... to read its raw data files, or ask "
            "its maintainers to publish data files."
        )


class HubDownloadError(HubError, ConnectionError):
    """A Hub request (a file download, a listing) that kept failing after retries.

    Parameters
    ----------
    repo_id, path, attempts, reason
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    repo_id : str
        The dataset's repo id.
    path : str
        The file in the repository, or what was asked of the Hub (``"the file listing"``).
    attempts : int
        How often it was tried.
    reason : str
        The last failure.

    Examples
    --------
    >>> err = HubDownloadError("org/name", "data/train.parquet", 9, "HTTP 503")
    >>> err.repo_id, err.path, err.attempts
    ('org/name', 'data/train.parquet', 9)
    """

    def __init__(self, repo_id: str, path: str, attempts: int, reason: str) -> None:
        self.repo_id = repo_id
        self.path = path
        self.attempts = attempts
        self.reason = reason
        super().__init__(
            f"Fetching {path} of dataset {repo_id!r} from the Hub failed after {attempts} "
            f"attempts: {reason}. The Hub or the network is failing or rate-limiting: try "
            "again later (files already downloaded stay in the cache), or raise "
            "CRUCIBLE_POLARS_HTTP_RETRIES / CRUCIBLE_POLARS_HTTP_RETRY_MAX_WAIT to wait longer."
        )


__all__ = [
    "DatasetNotFoundError",
    "HubAccessError",
    "HubDownloadError",
    "LoadingScriptError",
    "OfflineCacheMissError",
]
