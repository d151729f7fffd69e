"""Progress bars for long local work, as ``datasets`` shows them: ``map``/``filter`` with
functions, ``save_to_disk``, ``to_parquet``/``to_json``/``to_csv``, ``flatten_indices``.

Bars are ``tqdm`` bars on stderr. They are off when the environment variable
``HF_DATASETS_DISABLE_PROGRESS_BARS`` is set to a true value (as for ``datasets``) or after
:func:`disable_progress_bars`, and on again after :func:`enable_progress_bars`.

Examples
--------
>>> disable_progress_bars()
>>> are_progress_bars_disabled()
True
>>> with progress_bar(total=3, desc="Map") as bar:
...     bar.update(3)
>>> enable_progress_bars()
>>> are_progress_bars_disabled()
False
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm

_TRUE = {"1", "true", "yes", "on"}
_state: dict[str, bool | None] = {"disabled": None}  # None: as the environment says


def _env_disabled() -> bool:
    return os.environ.get("HF_DATASETS_DISABLE_PROGRESS_BARS", "").strip().lower() in _TRUE


def disable_progress_bars() -> None:
    """Hide the progress bars of ``crucible_polars`` (``map``, ``filter``...).

    Examples
    --------
    >>> disable_progress_bars(); are_progress_bars_disabled()
    True
    >>> enable_progress_bars()
    """
    _state["disabled"] = True


def enable_progress_bars() -> None:
    """Show the progress bars again (even if ``HF_DATASETS_DISABLE_PROGRESS_BARS`` is set).

    Examples
    --------
    >>> enable_progress_bars(); are_progress_bars_disabled()
    False
    """
    _state["disabled"] = False


def are_progress_bars_disabled() -> bool:
    """Whether progress bars are hidden (by a call, else by the environment).

    Examples
    --------
    >>> isinstance(are_progress_bars_disabled(), bool)
    True
    """
    disabled = _state["disabled"]
    return _env_disabled() if disabled is None else disabled


def progress_bar(total: int | None, desc: str, unit: str = " examples", **kwargs: Any) -> Any:
    """A tqdm bar (disabled when bars are off); use it as a context manager.

    Parameters
    ----------
    total
        The number of units (``None``: unknown, the bar counts up).
    desc
        The text before the bar (``"Map"``, or the ``desc=`` the user gave).
    unit
        What is counted.
    **kwargs
        More ``tqdm`` options.

    Examples
    --------
    >>> with progress_bar(total=2, desc="Filter", disable=True) as bar:
    ...     bar.update(2)
    """
    kwargs.setdefault("disable", are_progress_bars_disabled())
    return tqdm(total=total, desc=desc, unit=unit, **kwargs)


@contextmanager
def tracked(total: int | None, desc: str, unit: str = " examples") -> Iterator[Any]:
    """A :func:`progress_bar` that is erased when the work stops before ``total`` (a
    ``head`` of a lazy ``map``, an error), so no bar is left stuck part way.

    Parameters
    ----------
    total
        The number of units (``None``: unknown).
    desc
        The text before the bar.
    unit
        What is counted.

    Examples
    --------
    >>> with tracked(total=2, desc="Saving the dataset", unit=" examples") as bar:
    ...     bar.update(2)
    """
    bar = progress_bar(total, desc, unit)
    try:
        yield bar
    finally:
        if total is not None and bar.n < total:
            bar.leave = False
        bar.close()
