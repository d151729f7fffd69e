"""The package's logger and its verbosity switch, as ``datasets.logging``.

Every module logs through children of ``logging.getLogger("crucible_polars")``; the
level is ``WARNING`` unless the environment variable ``CRUCIBLE_POLARS_VERBOSITY`` (or
``DATASETS_VERBOSITY``, as for ``datasets``) names another (``debug``, ``info``,
``warning``, ``error``, ``critical``).

Examples
--------
>>> import crucible_polars as cp
>>> cp.logging.set_verbosity_info()
>>> cp.logging.get_verbosity() == cp.logging.INFO
True
>>> cp.logging.get_logger("crucible_polars.map").getEffectiveLevel() == cp.logging.INFO
True
>>> cp.logging.set_verbosity_warning()
"""

from __future__ import annotations

import logging
import os

from crucible_polars.progress import (
    are_progress_bars_disabled,
    disable_progress_bars,
    enable_progress_bars,
)

CRITICAL = logging.CRITICAL
FATAL = logging.FATAL
ERROR = logging.ERROR
WARNING = logging.WARNING
WARN = logging.WARN
INFO = logging.INFO
DEBUG = logging.DEBUG
NOTSET = logging.NOTSET

LIBRARY = "crucible_polars"
"""The name of the package's root logger."""

_LEVELS = {
    "debug": DEBUG,
    "info": INFO,
    "warning": WARNING,
    "error": ERROR,
    "critical": CRITICAL,
}

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "FATAL",
    "INFO",
    "NOTSET",
    "WARN",
    "WARNING",
    "are_progress_bars_disabled",
    "disable_progress_bars",
    "disable_propagation",
    "enable_progress_bars",
    "enable_propagation",
    "get_logger",
    "get_verbosity",
    "set_verbosity",
    "set_verbosity_debug",
    "set_verbosity_error",
    "set_verbosity_info",
    "set_verbosity_warning",
]


def _default_level() -> int:
    """The level the environment asks for (``WARNING`` if none, or an unknown name)."""
    name = os.environ.get("CRUCIBLE_POLARS_VERBOSITY") or os.environ.get("DATASETS_VERBOSITY")
    return _LEVELS.get((name or "").strip().lower(), WARNING)


def _root() -> logging.Logger:
    return logging.getLogger(LIBRARY)


_root().setLevel(_default_level())


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under the package's root logger (the root itself without a name).

    Parameters
    ----------
    name
        A module name (``__name__``); names outside the package go under it.

    Examples
    --------
    >>> get_logger().name, get_logger("crucible_polars.load").name, get_logger("mine").name
    ('crucible_polars', 'crucible_polars.load', 'crucible_polars.mine')
    """
    if name is None or name == LIBRARY:
        return _root()
    if not name.startswith(LIBRARY + "."):
        name = f"{LIBRARY}.{name}"
    return logging.getLogger(name)


def get_verbosity() -> int:
    """The package's logging level.

    Examples
    --------
    >>> get_verbosity() in (DEBUG, INFO, WARNING, ERROR, CRITICAL)
    True
    """
    return _root().getEffectiveLevel()


def set_verbosity(verbosity: int) -> None:
    """Set the package's logging level (``cp.logging.INFO``...).

    Parameters
    ----------
    verbosity
        A ``logging`` level.

    Examples
    --------
    >>> set_verbosity(ERROR); get_verbosity() == ERROR
    True
    >>> set_verbosity(WARNING)
    """
    _root().setLevel(verbosity)


def set_verbosity_debug() -> None:
    """Log everything (``DEBUG``).

    Examples
    --------
    >>> set_verbosity_debug(); get_verbosity() == DEBUG
    True
    >>> set_verbosity_warning()
    """
    set_verbosity(DEBUG)


def set_verbosity_info() -> None:
    """Log ``INFO`` and above.

    Examples
    --------
    >>> set_verbosity_info(); get_verbosity() == INFO
    True
    >>> set_verbosity_warning()
    """
    set_verbosity(INFO)


def set_verbosity_warning() -> None:
    """Log ``WARNING`` and above (the default).

    Examples
    --------
    >>> set_verbosity_warning(); get_verbosity() == WARNING
    True
    """
    set_verbosity(WARNING)


def set_verbosity_error() -> None:
    """Log errors only.

    Examples
    --------
    >>> set_verbosity_error(); get_verbosity() == ERROR
    True
    >>> set_verbosity_warning()
    """
    set_verbosity(ERROR)


def disable_propagation() -> None:
    """Stop the package's records from reaching the root logger's handlers.

    Examples
    --------
    >>> disable_propagation(); get_logger().propagate
    False
    >>> enable_propagation()
    """
    _root().propagate = False


def enable_propagation() -> None:
    """Let the package's records reach the root logger's handlers (the default).

    Examples
    --------
    >>> enable_propagation(); get_logger().propagate
    True
    """
    _root().propagate = True
