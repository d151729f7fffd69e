"""Streams side by side: ``concatenate_datasets(streams, axis=1)``, resumable.

:class:`HorizontalNode` reads every input in step and puts their columns side by side, row
``i`` of the output holding row ``i`` of every input, as ``datasets``'
``HorizontallyConcatenatedMultiSourcesExamplesIterable`` does. Frames are cut where the
shortest current frame of the inputs ends, so nothing is copied but the columns' headers.
An input that ends before the others leaves its columns null, as ``datasets`` does for
examples; the stream ends with the longest input. The state after a frame is the cursor of
every input and the column names each has shown (to fill its columns with nulls after its
end when the Features are unknown, even after a resume).

Examples
--------
>>> class Rows:
...     def __init__(self, name, n):
...         self.name, self.n = name, n
...     def frames(self, state):
...         start = state or 0
...         for i in range(start, self.n, 2):
...             yield pl.DataFrame({self.name: list(range(i, min(i + 2, self.n)))}), i + 2
>>> node = HorizontalNode([Rows("a", 3), Rows("b", 3)], None)
>>> last, state = list(node.frames(None))[-1]
>>> last.to_dicts(), state["inputs"], state["columns"]
([{'a': 2, 'b': 2}], [{'state': 4, 'skip': 0}, {'state': 4, 'skip': 0}], [['a'], ['b']])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crucible_polars.errors import DuplicateColumnError
from crucible_polars.ops.combine import with_columns_of
from crucible_polars.streaming.nodes import Node, cursor_at, cursor_rows

if TYPE_CHECKING:
    from crucible_polars.features import Features

State = Any


class _Input:
    """One input: its current frame and how much of it is taken."""

    def __init__(
        self, node: Node, cursor: dict[str, Any] | None, columns: list[str] | None
    ) -> None:
        self.columns = columns
        self.rows = cursor_rows(node, cursor)
        self.last: State = cursor["state"] if cursor else None
        self.frame: pl.DataFrame | None = None
        self.ended = False

    def fill(self) -> None:
        """Read the next frame with rows, unless one is being taken from (or the input ended)."""
        if self.frame is not None or self.ended:
            return
        for frame, before, skipped, after in self.rows:
            self.last = after
            if frame.height:
                self.frame, self.used = frame, 0
                self.before, self.skipped, self.after = before, skipped, after
                return
        self.ended = True

    def left(self) -> int:
        assert self.frame is not None
        return self.frame.height - self.used

    def take(self, n: int) -> pl.DataFrame:
        assert self.frame is not None
        part = self.frame.slice(self.used, n)
        self.columns = part.columns
        self.used += n
        if self.used == self.frame.height:
            self.frame = None
        return part

    def nulls(self, n: int) -> pl.DataFrame | None:
        """``n`` rows of nulls in this input's columns, once it has ended (if they are known)."""
        if not self.columns:
            return None
        return pl.DataFrame(
            [pl.repeat(None, n, dtype=pl.Null, eager=True).alias(c) for c in self.columns]
        )

    def cursor(self) -> dict[str, Any]:
        """The cursor of this input's next row."""
        if self.frame is None:
            return {"state": self.last, "skip": 0}
        return cursor_at(self.before, self.skipped, self.used, self.frame.height, self.after)


def check_unique_columns(names: Sequence[str]) -> None:
    """Raise :class:`DuplicateColumnError` if a column name is in two inputs.

    Examples
    --------
    >>> check_unique_columns(["a", "b"])
    >>> try:
    ...     check_unique_columns(["a", "b", "a"])
    ... except ValueError as error:
    ...     print(type(error).__name__)
    DuplicateColumnError
    """
    seen: set[str] = set()
    duplicated = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if duplicated:
        raise DuplicateColumnError(sorted(set(duplicated)), "concatenate_datasets(axis=1)")


class HorizontalNode:
    """The inputs' columns side by side (see the module docstring); the state is
    ``{"inputs": [cursor of every input]}``."""

    def __init__(self, inputs: Sequence[Node], features: Features | None) -> None:
        self.inputs = list(inputs)
        self.features = features

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        count = len(self.inputs)
        cursors = state["inputs"] if state else [None] * count
        columns = state["columns"] if state else [None] * count
        inputs = [_Input(*args) for args in zip(self.inputs, cursors, columns, strict=True)]
        checked = False
        while True:
            for item in inputs:
                item.fill()
            live = [item for item in inputs if not item.ended]
            if not live:
                return
            n = min(item.left() for item in live)
            parts = [item.take(n) if not item.ended else item.nulls(n) for item in inputs]
            frame = pl.concat([p for p in parts if p is not None], how="horizontal")
            if not checked:
                check_unique_columns([c for p in parts if p is not None for c in p.columns])
                checked = True
            if self.features is not None:
                frame = with_columns_of(frame.lazy(), self.features).collect()
            yield (
                frame,
                {
                    "inputs": [item.cursor() for item in inputs],
                    "columns": [item.columns for item in inputs],
                },
            )
