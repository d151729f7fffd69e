"""The datasets the tinker-cookbook recipes load, by short name.

Each :class:`CatalogEntry` records the Hub repository, its configs and splits, the task it
serves in the recipes, the columns the recipes read, and whether it is big enough that
streaming is the sensible way in. ``cp.load_dataset("gsm8k")`` resolves the short name to
``"openai/gsm8k"`` through :func:`resolve_short_name`.

Where the facts come from (each entry's ``source`` says which applies):

* **cookbook** — the ``load_dataset(...)`` calls and the row fields read in the public
  ``thinking-machines-lab/tinker-cookbook`` repository (``recipes/math_rl/math_env.py``,
  ``recipes/chat_sl/chat_datasets.py``, ``recipes/preference/datasets.py``,
  ``recipes/code_rl/code_env.py``, ``recipes/distillation/off_policy_reasoning.py``,
  ``recipes/vlm_classifier/data.py``, ``eval/benchmarks/{gsm8k,math500}.py``).
* **card** — the dataset's README on the Hub (its YAML ``configs:`` / ``dataset_info:``).
* **issue** — listed in issue 4 as a dataset the recipes use, without a ``load_dataset`` call
  found in the indexed cookbook sources.

An empty ``configs`` tuple means the recipes load the repository without ``name=`` (its
default or only config) and no card confirmed the config names.

Examples
--------
>>> from crucible_polars import catalog
>>> catalog.resolve_short_name("gsm8k")
'openai/gsm8k'
>>> catalog.get("gsm8k").configs
('main', 'socratic')
>>> catalog.list().filter(catalog.list()["task"] == "vision")["short_name"].to_list()
['caltech101', 'flowers102', 'oxford_pets', 'stanford_cars']
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, fields
from typing import Any

import polars as pl

from crucible_polars import load as loading
from crucible_polars.resolve.catalog_data import TASKS, CatalogRecord
from crucible_polars.resolve.catalog_table import (
    close_short_names,
    lookup,
    records,
    resolve_short_name,
)


@dataclass(frozen=True)
class CatalogEntry(CatalogRecord):
    """One dataset the tinker-cookbook recipes load; the attributes of
    :class:`~crucible_polars.resolve.catalog_table.CatalogRecord` plus :meth:`load`.

    Parameters
    ----------
    short_name, repo_id, task, configs, splits, columns, default_config
        The attributes of the same names (see
        :class:`~crucible_polars.resolve.catalog_table.CatalogRecord`).
    streaming_recommended, description, source, aliases
        The attributes of the same names (see
        :class:`~crucible_polars.resolve.catalog_table.CatalogRecord`).

    Examples
    --------
    >>> entry = get("hh_rlhf")
    >>> entry.repo_id, entry.splits
    ('Anthropic/hh-rlhf', ('train', 'test'))
    """

    def load(self, split: str | None = None, **kwargs: Any) -> Any:
        """``cp.load_dataset`` on this entry, with its default config (and streaming if large).

        ``name=`` and ``streaming=`` in ``kwargs`` override the entry's defaults.

        Examples
        --------
        >>> get("gsm8k").load(split="train")  # doctest: +SKIP
        Dataset(...)
        """
        kwargs.setdefault("name", self.default_config)
        kwargs.setdefault("streaming", self.streaming_recommended)
        return loading.load_dataset(self.repo_id, split=split, **kwargs)


def _as_entry(record: CatalogRecord) -> CatalogEntry:
    return CatalogEntry(**{f.name: getattr(record, f.name) for f in fields(record)})


_ENTRIES = tuple(_as_entry(r) for r in records())
_BY_SHORT_NAME = {entry.short_name: entry for entry in _ENTRIES}


def _entry(record: CatalogRecord) -> CatalogEntry:
    return _BY_SHORT_NAME[record.short_name]


def entries() -> tuple[CatalogEntry, ...]:
    """Every catalog entry, grouped by task.

    Examples
    --------
    >>> len(entries()) >= 15
    True
    """
    return _ENTRIES


def get(short_name: str) -> CatalogEntry:
    """The entry of a short name (or alias, or the repository's own name).

    Parameters
    ----------
    short_name : str
        E.g. ``"gsm8k"``, ``"MATH-500"``, ``"hh-rlhf"``.

    Returns
    -------
    CatalogEntry

    Raises
    ------
    KeyError
        When nothing matches; the message lists the closest short names.

    Examples
    --------
    >>> get("MATH-500").repo_id
    'HuggingFaceH4/MATH-500'
    >>> get("gsm8")
    Traceback (most recent call last):
    ...
    KeyError: "No catalog dataset named 'gsm8'. Did you mean: gsm8k? ..."
    """
    record = lookup(short_name)
    if record is not None:
        return _entry(record)
    close = close_short_names(short_name)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise KeyError(
        f"No catalog dataset named {short_name!r}.{hint} "
        "See crucible_polars.catalog.list() for the short names."
    )


def list(task: str | None = None) -> pl.DataFrame:
    """The catalog as a DataFrame, one row per dataset.

    Parameters
    ----------
    task : str, optional
        Keep only one task (see :data:`TASKS`).

    Returns
    -------
    polars.DataFrame
        Columns ``short_name``, ``repo_id``, ``task``, ``configs``, ``splits``, ``columns``,
        ``default_config``, ``streaming_recommended``, ``description``, ``source``.

    Examples
    --------
    >>> df = list()
    >>> df.columns[:6]
    ['short_name', 'repo_id', 'task', 'configs', 'splits', 'columns']
    >>> list(task="preference")["short_name"].to_list()[:2]
    ['hh_rlhf', 'helpsteer3']
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}. Pick one of: {', '.join(TASKS)}.")
    rows = [e for e in _ENTRIES if task is None or e.task == task]
    schema = pl.Schema(
        {
            "short_name": pl.String(),
            "repo_id": pl.String(),
            "task": pl.String(),
            "configs": pl.List(pl.String()),
            "splits": pl.List(pl.String()),
            "columns": pl.List(pl.String()),
            "default_config": pl.String(),
            "streaming_recommended": pl.Boolean(),
            "description": pl.String(),
            "source": pl.String(),
        }
    )
    return pl.DataFrame(
        {
            "short_name": [e.short_name for e in rows],
            "repo_id": [e.repo_id for e in rows],
            "task": [e.task for e in rows],
            "configs": [builtins.list(e.configs) for e in rows],
            "splits": [builtins.list(e.splits) for e in rows],
            "columns": [builtins.list(e.columns) for e in rows],
            "default_config": [e.default_config for e in rows],
            "streaming_recommended": [e.streaming_recommended for e in rows],
            "description": [e.description for e in rows],
            "source": [e.source for e in rows],
        },
        schema=schema,
    )


__all__ = ["TASKS", "CatalogEntry", "entries", "get", "list", "resolve_short_name"]
