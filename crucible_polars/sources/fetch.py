"""fsspec URLs Polars cannot scan itself, fetched once into a local folder (not streaming).

Polars reads ``s3://``, ``gs://``, ``az://``, ``http(s)://`` and local files natively, with
range requests. Any other fsspec protocol the user has installed (``memory://``, ``ftp://``,
``sftp://``, chained archive URLs such as ``zip://train.jsonl::data.zip``...) and any URL
given with ``storage_options`` (whose names are fsspec's, not Polars') is read through
``fsspec`` instead and copied once into the cache (``<cache>/downloads``), as ``datasets``
downloads data files in non-streaming mode. Streaming reads such URLs through ``fsspec`` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crucible_polars.sources.open import local_copy

POLARS_PROTOCOLS = frozenset(
    {"s3", "s3a", "gs", "gcs", "gcp", "az", "azure", "abfs", "abfss", "adl", "http", "https"}
)
"""URL protocols Polars scans natively (``hf://`` is resolved by :mod:`..resolve.hf_urls`)."""


def needs_fetch(url: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether Polars cannot scan ``url`` itself (or ``storage_options`` must be honoured).

    Examples
    --------
    >>> needs_fetch("memory://a.csv"), needs_fetch("s3://b/a.csv"), needs_fetch("/tmp/a.csv")
    (True, False, False)
    >>> needs_fetch("zip://a.csv::s3://b/x.zip"), needs_fetch("s3://b/a.csv", {"anon": True})
    (True, True)
    """
    if "://" not in url:
        return False
    if "::" in url:
        return True
    protocol = url.split("://", 1)[0].lower()
    if protocol == "file":
        return False
    return protocol not in POLARS_PROTOCOLS or bool(storage_options)


def fetch(url: str, storage_options: Mapping[str, Any] | None = None) -> str:
    """``url`` itself when Polars scans it, else a local copy read through fsspec with
    ``storage_options`` (:func:`~crucible_polars.sources.open.local_copy`, once per version
    of the file); ``file://`` URLs become paths.

    Examples
    --------
    >>> import fsspec
    >>> fs = fsspec.filesystem("memory"); fs.pipe("/fetch-doc/a.csv", b"x\\n1\\n")
    >>> open(fetch("memory://fetch-doc/a.csv")).read()
    'x\\n1\\n'
    """
    if url.startswith("file://"):
        return url[len("file://") :]
    if not needs_fetch(url, storage_options):
        return url
    return local_copy(url, dict(storage_options or {}))
