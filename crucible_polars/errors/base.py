"""The base of every crucible_polars error, its three groups, and how errors pickle.

Pickling rebuilds an error from its message and attributes without calling ``__init__``
again, so every subclass round-trips with its attributes intact and its message not doubled
(the default would call ``cls(message)``, which fails for a constructor taking a path, a row
and a column). Classes defined in ``crucible_polars.errors.*`` are shown and pickled as
``crucible_polars.errors.<Name>``, the public path.
"""

from __future__ import annotations

from typing import Any

_PUBLIC_MODULE = __name__.rpartition(".")[0]  # crucible_polars.errors


def _rebuild(cls: type[CrucibleError], args: tuple[Any, ...]) -> CrucibleError:
    """An instance of ``cls`` holding ``args``, without running ``cls.__init__``."""
    error = cls.__new__(cls)
    error.args = args
    return error


class CrucibleError(Exception):
    """Base class of every error crucible_polars raises on purpose.

    Subclasses take structured arguments (path, row, column...), keep them as attributes
    and pass one message to ``Exception``; ``str(err)`` is that message.

    Examples
    --------
    >>> import pickle
    >>> err = pickle.loads(pickle.dumps(CrucibleError("Something went wrong.")))
    >>> type(err).__name__, str(err)
    ('CrucibleError', 'Something went wrong.')
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith(f"{_PUBLIC_MODULE}."):
            cls.__module__ = _PUBLIC_MODULE

    def __str__(self) -> str:
        # KeyError's own __str__ would show repr(message)
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args), self.__dict__)


CrucibleError.__module__ = _PUBLIC_MODULE


class HubError(CrucibleError):
    """The Hugging Face Hub cannot give the dataset: not found, gated, offline, or a script.

    Examples
    --------
    >>> from crucible_polars.errors import HubAccessError
    >>> isinstance(HubAccessError("org/private"), HubError)
    True
    """


class DataError(CrucibleError):
    """The data files: missing, unreadable, malformed, or not of the requested types.

    Examples
    --------
    >>> from crucible_polars.errors import DataFileError
    >>> isinstance(DataFileError("a.jsonl", "invalid JSON", row=3), DataError)
    True
    """


class UsageError(CrucibleError):
    """An argument that does not fit the dataset: unknown column, split, config, ...

    Examples
    --------
    >>> from crucible_polars.errors import SplitNotFoundError
    >>> isinstance(SplitNotFoundError("dev", ["train"]), UsageError)
    True
    """
