"""The steps of a streaming pipeline after its source, each resumable from a state.

Every node yields ``(frame, state_after)``: ``node.frames(state_after)`` continues exactly
after that frame. A *cursor* ``{"state": s, "skip": k}`` names a row: the ``k``-th row
yielded from state ``s``. Resuming needs every node to yield the same rows from the same
state (frame boundaries may differ), which holds because each node is deterministic:

* row-wise nodes (expressions, Python ``map``/``filter`` row by row) keep the upstream
  state; batched Python functions and ``batch`` cut exact batches from a saved cursor;
* ``take``/``skip`` and the row interleave of ``shard`` count rows in their state;
* ``shuffle`` fills a buffer of ``buffer_size`` rows, permutes it with a seeded generator,
  yields half and keeps half (``datasets``' algorithm, made row-exact). Its state holds the
  generator's state and the buffer *as positions*: the cursor of the oldest buffered row and
  the offsets of the buffered rows from it. On resume the rows from that cursor on are read
  again and the buffered ones picked out, so the state stays small (about ``buffer_size / 2``
  integers) and the buffer is exactly what it was; the cost is re-reading the rows since the
  oldest buffered one (a few buffer lengths on average).

Examples
--------
>>> class Frames:
...     def frames(self, state):
...         start = state or 0
...         for i in range(start, 6, 2):
...             yield pl.DataFrame({"x": [i, i + 1]}), i + 2
>>> [f["x"].to_list() for f, _ in TakeNode(Frames(), 3).frames(None)]
[[0, 1], [2]]
>>> [(f["x"].to_list(), s) for f, s in RebatchNode(Frames(), 4).frames(None)]
[([0, 1, 2, 3], {'state': 4, 'skip': 0}), ([4, 5], {'state': 6, 'skip': 0})]
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import polars as pl

from crucible_polars.streaming.pushdown import Transform, apply_chain

State = Any
ORD = "__crucible_ord__"


class Node(Protocol):
    """A step of a pipeline: frames from a state, each with the state after it."""

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state`` (``None``: the start)."""
        ...


def cursor_rows(
    node: Node, cursor: dict[str, Any] | None
) -> Iterator[tuple[pl.DataFrame, State, int, State]]:
    """Frames of ``node`` from a cursor, as ``(frame, state_before, skipped, state_after)``.

    The first ``cursor["skip"]`` rows are dropped; row ``j`` of a yielded frame is the row at
    cursor ``{"state": state_before, "skip": skipped + j}``.

    Examples
    --------
    >>> class Two:
    ...     def frames(self, state):
    ...         yield pl.DataFrame({"x": [0, 1, 2]}), "end"
    >>> steps = cursor_rows(Two(), {"state": None, "skip": 2})
    >>> [(f["x"].to_list(), b, k, a) for f, b, k, a in steps]
    [([2], None, 2, 'end')]
    """
    state = cursor["state"] if cursor else None
    skip = int(cursor["skip"]) if cursor else 0
    before = state
    for frame, after in node.frames(state):
        skipped = 0
        if skip:
            if frame.height <= skip:  # a shorter frame than before: the skip carries on
                skip -= frame.height
                before = after
                continue
            frame, skipped, skip = frame.slice(skip), skip, 0
        yield frame, before, skipped, after
        before = after


def cursor_at(before: State, skipped: int, used: int, height: int, after: State) -> dict[str, Any]:
    """The cursor after ``used`` rows of a frame from :func:`cursor_rows`.

    Examples
    --------
    >>> cursor_at("s0", 0, 2, 2, "s1"), cursor_at("s0", 1, 1, 3, "s1")
    ({'state': 's1', 'skip': 0}, {'state': 's0', 'skip': 2})
    """
    if used >= height:
        return {"state": after, "skip": 0}
    return {"state": before, "skip": skipped + used}


def concat(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Frames stacked (types relaxed to a common supertype).

    Examples
    --------
    >>> concat([pl.DataFrame({"a": [1]}), pl.DataFrame({"a": [2.5]})])["a"].to_list()
    [1.0, 2.5]
    """
    if len(frames) == 1:
        return frames[0]
    first = frames[0].schema
    if all(f.schema == first for f in frames[1:]):
        out = frames[0].clone()  # vstack appends chunks: nothing is copied
        for frame in frames[1:]:
            out.vstack(frame, in_place=True)
        return out
    return pl.concat(frames, how="vertical_relaxed", rechunk=False)


class ExprNode:
    """Polars expression transforms applied to every frame (after a Python function)."""

    def __init__(self, upstream: Node, chain: Sequence[Transform]) -> None:
        self.upstream = upstream
        self.chain = list(chain)

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        for frame, after in self.upstream.frames(state):
            yield apply_chain(frame.lazy(), self.chain).collect(), after


class RebatchNode:
    """Exact batches of ``size`` rows (the last one smaller unless ``drop_last``), each then
    passed through ``transform(batch, first_row_ordinal)``; the state is a cursor upstream
    plus the ordinal of the next row."""

    def __init__(
        self,
        upstream: Node,
        size: int,
        drop_last: bool = False,
        transform: Callable[[pl.DataFrame, int], pl.DataFrame] | None = None,
    ) -> None:
        if size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {size}.")
        self.upstream = upstream
        self.size = size
        self.drop_last = drop_last
        self.transform = transform

    def _state(self, cursor: dict[str, Any], ordinal: int) -> State:
        return cursor if self.transform is None else {**cursor, "n": ordinal}

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Batches from ``state``."""
        ordinal = int(state.get("n", 0)) if state else 0
        cursor = {"state": state["state"], "skip": state["skip"]} if state else None
        pending: list[pl.DataFrame] = []
        count = 0
        last: State = cursor["state"] if cursor else None
        for frame, before, skipped, after in cursor_rows(self.upstream, cursor):
            last = after
            used = 0
            while used < frame.height:
                take = min(self.size - count, frame.height - used)
                pending.append(frame.slice(used, take))
                used += take
                count += take
                if count == self.size:
                    batch = concat(pending)
                    out = batch if self.transform is None else self.transform(batch, ordinal)
                    ordinal += count
                    pending, count = [], 0
                    yield (
                        out,
                        self._state(cursor_at(before, skipped, used, frame.height, after), ordinal),
                    )
        if count and not self.drop_last:
            batch = concat(pending)
            out = batch if self.transform is None else self.transform(batch, ordinal)
            yield out, self._state({"state": last, "skip": 0}, ordinal + count)


class GroupNode:
    """Runs of consecutive rows with equal values in ``columns``, each passed through
    ``transform(run, first_row_ordinal)`` (``batch(by_column=...)``); the state is a cursor
    upstream at the first row of the run not yet yielded, plus that row's ordinal.

    Examples
    --------
    >>> class Frames:
    ...     def frames(self, state):
    ...         yield pl.DataFrame({"k": [1, 1, 2]}), 1
    ...         yield pl.DataFrame({"k": [2, 3]}), 2
    >>> [f["k"].to_list() for f, _ in GroupNode(Frames(), ["k"]).frames(None)]
    [[1, 1], [2, 2], [3]]
    """

    def __init__(
        self,
        upstream: Node,
        columns: Sequence[str],
        transform: Callable[[pl.DataFrame, int], pl.DataFrame] | None = None,
    ) -> None:
        self.upstream = upstream
        self.columns = list(columns)
        self.transform = transform

    def _out(self, pending: list[pl.DataFrame], ordinal: int) -> pl.DataFrame:
        run = concat(pending)
        return run if self.transform is None else self.transform(run, ordinal)

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Runs from ``state``."""
        ordinal = int(state.get("n", 0)) if state else 0
        cursor = {"state": state["state"], "skip": state["skip"]} if state else None
        pending: list[pl.DataFrame] = []
        count, key = 0, None
        last: State = cursor["state"] if cursor else None
        for frame, before, skipped, after in cursor_rows(self.upstream, cursor):
            last = after
            keys = frame.select(self.columns).rows()
            starts = [i for i in range(len(keys)) if i == 0 or keys[i] != keys[i - 1]]
            for start, stop in zip(starts, [*starts[1:], len(keys)], strict=True):
                if pending and keys[start] != key:
                    out = self._out(pending, ordinal)
                    ordinal += count
                    pending, count = [], 0
                    where = cursor_at(before, skipped, start, frame.height, after)
                    yield out, {**where, "n": ordinal}
                pending.append(frame.slice(start, stop - start))
                count += stop - start
                key = keys[start]
        if pending:
            yield self._out(pending, ordinal), {"state": last, "skip": 0, "n": ordinal + count}


class RowsNode:
    """A row-wise function of each frame (``transform(frame, first_row_ordinal)``), with the
    ordinal of rows kept in the state (for ``with_indices``)."""

    def __init__(self, upstream: Node, transform: Callable[[pl.DataFrame, int], pl.DataFrame]):
        self.upstream = upstream
        self.transform = transform

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        ordinal = int(state["n"]) if state else 0
        for frame, after in self.upstream.frames(state["up"] if state else None):
            out = self.transform(frame, ordinal)
            ordinal += frame.height
            yield out, {"up": after, "n": ordinal}


class RepeatNode:
    """The upstream ``times`` times over (``None``: forever, unless it yields no rows); the
    state is ``{"rep": repetition, "up": upstream state}``."""

    def __init__(self, upstream: Node, times: int | None) -> None:
        self.upstream = upstream
        self.times = times

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        rep = int(state["rep"]) if state else 0
        up = state["up"] if state else None
        while self.times is None or rep < self.times:
            rows = 0
            for frame, after in self.upstream.frames(up):
                rows += frame.height
                yield frame, {"rep": rep, "up": after}
            if self.times is None and rows == 0 and up is None:
                return  # an empty stream repeated forever is empty
            rep, up = rep + 1, None


class _CountingNode:
    """Base of nodes that count rows (batches, after ``batch()``: each is one row)."""

    def __init__(self, upstream: Node) -> None:
        self.upstream = upstream


class TakeNode(_CountingNode):
    """The first ``n`` elements."""

    def __init__(self, upstream: Node, n: int) -> None:
        super().__init__(upstream)
        self.n = n

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        done = int(state["n"]) if state else 0
        if done >= self.n:
            return
        for frame, after in self.upstream.frames(state["up"] if state else None):
            size = frame.height
            if done + size >= self.n:
                frame = frame.head(self.n - done)
                yield frame, {"up": after, "n": self.n}
                return
            done += size
            yield frame, {"up": after, "n": done}


class SkipNode(_CountingNode):
    """Everything after the first ``n`` elements."""

    def __init__(self, upstream: Node, n: int) -> None:
        super().__init__(upstream)
        self.n = n

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``; jumps over the skipped rows when the upstream can seek."""
        if state is None and self.n:
            seek = getattr(self.upstream, "seek", None)
            jumped = seek(self.n) if seek is not None else None
            if jumped is not None:
                state = {"up": jumped, "n": self.n}
        done = int(state["n"]) if state else 0
        for frame, after in self.upstream.frames(state["up"] if state else None):
            if done < self.n:
                size = frame.height
                drop = min(self.n - done, size)
                done += drop
                if drop == size:
                    yield frame.head(0), {"up": after, "n": done}
                    continue
                frame = frame.slice(drop)
            yield frame, {"up": after, "n": done}


class StepNode(_CountingNode):
    """Every ``step``-th element starting at ``offset`` (a shard, when files cannot be)."""

    def __init__(self, upstream: Node, step: int, offset: int) -> None:
        super().__init__(upstream)
        self.step = step
        self.offset = offset

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        ordinal = int(state["n"]) if state else 0
        for frame, after in self.upstream.frames(state["up"] if state else None):
            size = frame.height
            first = (self.offset - ordinal) % self.step
            ordinal += size
            yield frame.gather_every(self.step, first), {"up": after, "n": ordinal}


def rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    """A numpy generator restored from ``bit_generator.state``.

    Examples
    --------
    >>> rng = np.random.default_rng(0); saved = rng.bit_generator.state; a = rng.random()
    >>> rng_from_state(saved).random() == a
    True
    """
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = copy.deepcopy(state)
    return np.random.Generator(bit_generator)


class ShuffleNode:
    """A shuffle buffer of ``buffer_size`` rows (see the module docstring)."""

    def __init__(self, upstream: Node, buffer_size: int, seed: int) -> None:
        if buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive integer, got {buffer_size}.")
        self.upstream = upstream
        self.size = buffer_size
        self.seed = seed

    def frames(self, state: State) -> Iterator[tuple[pl.DataFrame, State]]:
        """Frames from ``state``."""
        if state is not None and state.get("done"):
            return
        if state is None:
            rng = np.random.default_rng(self.seed)
            base, wanted, resume_at = None, [], 0
        else:
            rng = rng_from_state(state["rng"])
            base, wanted, resume_at = state["base"], list(state["rows"]), int(state["next"])
        upstream = cursor_rows(self.upstream, base)
        index: list[tuple[int, int, State, int]] = []  # (first, end, before, skipped)
        ordinal = 0
        pending: list[pl.DataFrame] = []  # rows read but not yet in the buffer

        def pull() -> pl.DataFrame | None:
            nonlocal ordinal
            step = next(upstream, None)
            if step is None:
                return None
            frame, before, skipped, _ = step
            index.append((ordinal, ordinal + frame.height, before, skipped))
            frame = frame.with_columns(
                pl.int_range(ordinal, ordinal + frame.height, dtype=pl.Int64).alias(ORD)
            )
            ordinal += frame.height
            return frame

        buffer = self._restore(pull, pending, wanted, resume_at)
        while True:
            need = self.size - buffer.height if buffer is not None else self.size
            parts = [] if buffer is None else [buffer]
            while need > 0:
                frame = pending.pop(0) if pending else pull()
                if frame is None:
                    break
                parts.append(frame.head(need))
                if frame.height > need:
                    pending.insert(0, frame.slice(need))
                need -= min(need, frame.height)
            buffer = concat(parts) if parts else None
            if buffer is None or buffer.height < self.size:  # the end: flush the buffer
                if buffer is not None and buffer.height:
                    order = rng.permutation(buffer.height)
                    yield buffer[order].drop(ORD), {"done": True}
                return
            order = rng.permutation(self.size)
            keep = self.size // 2
            out, buffer = buffer[order[: self.size - keep]], buffer[order[self.size - keep :]]
            next_ordinal = pending[0][ORD][0] if pending else ordinal
            yield out.drop(ORD), self._save(buffer, next_ordinal, rng, index)

    def _restore(
        self,
        pull: Callable[[], pl.DataFrame | None],
        pending: list[pl.DataFrame],
        wanted: list[int],
        resume_at: int,
    ) -> pl.DataFrame | None:
        """Re-read the rows up to ``resume_at`` and rebuild the buffer from them."""
        if resume_at == 0:
            return None
        keep = set(wanted)
        found: list[pl.DataFrame] = []
        read = 0
        while read < resume_at:
            frame = pull()
            if frame is None:
                break
            read += frame.height
            if read > resume_at:
                cut = frame.height - (read - resume_at)
                pending.append(frame.slice(cut))
                frame = frame.head(cut)
            found.append(frame.filter(pl.col(ORD).is_in(list(keep))))
        rows = concat(found) if found else None
        if rows is None or not wanted:
            return rows.head(0) if rows is not None else None
        position = {o: i for i, o in enumerate(wanted)}
        order = pl.Series([position[o] for o in rows[ORD].to_list()])
        return rows.with_columns(order.alias("__pos")).sort("__pos").drop("__pos")

    def _save(
        self,
        buffer: pl.DataFrame,
        next_ordinal: int,
        rng: np.random.Generator,
        index: list[tuple[int, int, State, int]],
    ) -> State:
        ords = buffer[ORD].to_list()
        oldest = min(ords) if ords else next_ordinal
        while len(index) > 1 and index[0][1] <= oldest:
            index.pop(0)
        first, _, before, skipped = index[0]
        return {
            "base": {"state": before, "skip": skipped + oldest - first},
            "rows": [o - oldest for o in ords],
            "next": next_ordinal - oldest,
            "rng": copy.deepcopy(rng.bit_generator.state),
        }
