"""The state of an :class:`~crucible_polars.IterableDataset`'s iteration, to resume exactly.

``state_dict()`` is a plain ``dict``: the state format's version, the pipeline it was saved
from (its signature: source and steps), the epoch, and the *cursor* of the next row
(``{"state": s, "skip": k}``, see :mod:`crucible_polars.streaming.nodes`) or ``None`` at the
start. A :class:`Position` follows an iteration row by row so that the cursor is exact
wherever the iteration stopped.

Examples
--------
>>> state = new_state("memory[1]", 0, None)
>>> state["version"] == STATE_VERSION, state["cursor"]
(True, None)
>>> checked_state(state, "memory[1]") == state
True
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from typing import Any

from crucible_polars.streaming.nodes import cursor_at

STATE_VERSION = 1


class Position:
    """Where a row iteration is: in a frame from :func:`~.nodes.cursor_rows`, how many rows
    of it were yielded (counted from the rows left in the iterator being yielded from).

    Parameters
    ----------
    before
        The state the frame was read from.
    skipped
        Rows of that state's output skipped before the frame.
    height
        The frame's number of rows.
    after
        The state after the frame.

    Examples
    --------
    >>> position = Position("s0", 0, 3, "s1")
    >>> rows = position.follow(0, ["a", "b", "c"])
    >>> next(rows), position.cursor()
    ('a', {'state': 's0', 'skip': 1})
    """

    __slots__ = ("after", "before", "count", "done", "height", "rows", "skipped")

    def __init__(self, before: Any, skipped: int, height: int, after: Any) -> None:
        self.before, self.skipped, self.height, self.after = before, skipped, height, after
        self.done = 0
        self.count = 0
        self.rows: Iterator[Any] | None = None

    def follow(self, done: int, rows: list[Any]) -> Iterator[Any]:
        """Rows ``done`` onwards of the frame, to be yielded from the iterator returned."""
        self.done, self.count, self.rows = done, len(rows), iter(rows)
        return self.rows

    def cursor(self) -> dict[str, Any]:
        """The cursor of the next row to yield."""
        used = self.done
        if self.rows is not None:
            used += self.count - operator.length_hint(self.rows)
        return cursor_at(self.before, self.skipped, used, self.height, self.after)


def new_state(pipeline: str, epoch: int, cursor: dict[str, Any] | None) -> dict[str, Any]:
    """A state dict for ``pipeline`` at ``cursor`` of ``epoch``.

    Parameters
    ----------
    pipeline
        The dataset's signature (source and steps).
    epoch
        The epoch being iterated.
    cursor
        The next row's cursor, ``None`` at the start.

    Examples
    --------
    >>> new_state("csv[2]>take(5)", 1, None)
    {'version': 1, 'pipeline': 'csv[2]>take(5)', 'epoch': 1, 'cursor': None}
    """
    return {"version": STATE_VERSION, "pipeline": pipeline, "epoch": epoch, "cursor": cursor}


def starting_cursor(start: Mapping[str, Any] | None, epoch: int) -> dict[str, Any] | None:
    """The cursor to start an iteration of ``epoch`` from: the loaded state's, in its epoch.

    Parameters
    ----------
    start
        The state given to ``load_state_dict`` (``None``: none was).
    epoch
        The epoch about to be iterated; another epoch than the state's starts at the top.

    Examples
    --------
    >>> saved = new_state("memory[1]", 0, {"state": None, "skip": 2})
    >>> starting_cursor(saved, 0), starting_cursor(saved, 1)
    ({'state': None, 'skip': 2}, None)
    """
    return start["cursor"] if start is not None and start["epoch"] == epoch else None


def checked_state(state_dict: Mapping[str, Any], pipeline: str) -> dict[str, Any]:
    """``state_dict`` as a ``dict``, once checked to be a state saved from ``pipeline``.

    Parameters
    ----------
    state_dict
        A state from ``state_dict()``.
    pipeline
        The signature of the dataset loading it.

    Raises
    ------
    ValueError
        Not a state, or a state saved from a different pipeline of steps.

    Examples
    --------
    >>> checked_state(new_state("memory[1]", 0, None), "memory[1]>take(1)")
    Traceback (most recent call last):
    ...
    ValueError: This state was saved from the pipeline 'memory[1]', ...
    """
    state = dict(state_dict)
    if state.get("version") != STATE_VERSION or "cursor" not in state:
        raise ValueError(
            "Not a crucible_polars IterableDataset state (expected keys 'version', "
            f"'pipeline', 'epoch', 'cursor'; got {sorted(state)})."
        )
    if state.get("pipeline") != pipeline:
        raise ValueError(
            f"This state was saved from the pipeline {state.get('pipeline')!r}, but this "
            f"dataset's pipeline is {pipeline!r}: load the same files and apply the same "
            "transforms, in the same order, before load_state_dict."
        )
    return state
