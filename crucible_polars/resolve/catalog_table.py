"""The catalog's facts: the datasets the tinker-cookbook recipes load, and their short names.

Lookup over :mod:`crucible_polars.resolve.catalog_data`, with no dependency on loading, so
that :func:`crucible_polars.load_dataset` can resolve ``"gsm8k"`` to ``"openai/gsm8k"``; the public
:mod:`crucible_polars.catalog` adds :meth:`~crucible_polars.catalog.CatalogEntry.load`.

Examples
--------
>>> resolve_short_name("gsm8k")
'openai/gsm8k'
"""

from __future__ import annotations

import difflib
import re

from crucible_polars.resolve.catalog_data import ENTRIES, CatalogRecord

_BY_SHORT_NAME: dict[str, CatalogRecord] = {entry.short_name: entry for entry in ENTRIES}


def _key(name: str) -> str:
    """Normalize a name for lookup: case-insensitive, ``-``/``.``/spaces as ``_``."""
    return re.sub(r"[-. ]+", "_", name.strip().lower())


def _index() -> dict[str, CatalogRecord]:
    index: dict[str, CatalogRecord] = {}
    for entry in ENTRIES:
        names = (entry.short_name, *entry.aliases, entry.repo_id.split("/", 1)[1])
        for name in names:
            index.setdefault(_key(name), entry)
    return index


_INDEX = _index()


def records() -> tuple[CatalogRecord, ...]:
    """Every catalog record, grouped by task.

    Examples
    --------
    >>> len(records()) >= 15
    True
    """
    return ENTRIES


def lookup(name: str) -> CatalogRecord | None:
    """The record of a short name, alias or repository name (``None`` for ``owner/name``).

    Examples
    --------
    >>> lookup("MATH-500").repo_id
    'HuggingFaceH4/MATH-500'
    """
    if "/" in name:
        return None
    return _INDEX.get(_key(name))


def resolve_short_name(name: str) -> str | None:
    """The Hub repository id of a catalog short name, or ``None``.

    Names containing ``/`` are repository ids already and give ``None``, as do names the
    catalog does not know. Callers should check for a local path of that name first.

    Parameters
    ----------
    name
        A short name or alias (case-insensitive), e.g. ``"gsm8k"``.

    Examples
    --------
    >>> resolve_short_name("gsm8k")
    'openai/gsm8k'
    >>> resolve_short_name("HH-RLHF")
    'Anthropic/hh-rlhf'
    >>> resolve_short_name("openai/gsm8k") is None, resolve_short_name("no-such") is None
    (True, True)
    """
    entry = lookup(name)
    return entry.repo_id if entry is not None else None


def close_short_names(name: str) -> list[str]:
    """Up to three short names close to ``name`` (for "did you mean" messages).

    Examples
    --------
    >>> close_short_names("gsm8")
    ['gsm8k']
    """
    return difflib.get_close_matches(_key(name), list(_BY_SHORT_NAME), n=3)
