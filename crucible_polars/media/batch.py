"""Decoding many images: a shared thread pool over contiguous chunks, and array stacking.

Decoding a column runs in a shared thread pool (Pillow releases the GIL), a contiguous chunk
of rows per task (:func:`run_chunked`, also used for notebook thumbnails).
:func:`decode_images_to_array` writes every decoded image straight into one preallocated
``(N, H, W[, C])`` array when the shapes agree (as ``datasets``' numpy format stacks them).
One image is decoded by :func:`crucible_polars.media.decode.decode_value`; for arrays, a
plain 8-bit PNG skips ``Image.open`` (:class:`crucible_polars.media.png.PngArrays`: the
same pixels, a third of the time for an MNIST digit).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import PIL.Image

from crucible_polars.media.decode import (
    ImageSize,
    OnError,
    current_image_decode_errors,
    decode_value,
)
from crucible_polars.media.png import PngArrays

T = TypeVar("T")


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


THREADS = min(32, _usable_cores())
"""Decode threads: one per usable core (Pillow's decoders release the GIL; more threads
than cores only add contention for the GIL-held parts of ``Image.open``)."""
IO_THREADS = max(THREADS, 16)
"""Threads when images must be fetched from remote paths (waiting on the network)."""

_MIN_PARALLEL = 4  # fewer images than this decode in the calling thread
_PROBE = 16  # images timed in the calling thread before choosing threads or not
CHUNKS_PER_THREAD = 16
"""At most this many chunks per decode thread: small enough that a thread the OS sets aside
(a shared machine) leaves little work behind it -- the last chunk is the tail -- and few
enough that handing chunks out stays negligible."""
SERIAL_BELOW = 100e-6
"""Images that decode faster than this (seconds, e.g. 32x32 PNGs) decode in one thread."""
SERIAL_BYTES = 8 * 1024
"""Values smaller than this on average (encoded bytes, e.g. MNIST's 28x28 PNGs of ~300 bytes)
decode in one thread: their decode is mostly GIL-held Python, so threads cost more than
they save."""
CHUNK_BYTES = 64 * 1024
"""The least encoded bytes one thread's chunk of work holds."""

_pools: dict[int, ThreadPoolExecutor] = {}
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def _executor(threads: int) -> ThreadPoolExecutor:
    """A shared pool of ``threads`` threads (re-created after a fork, e.g. in a DataLoader
    worker, where the parent's threads do not exist)."""
    global _pool_pid
    with _pool_lock:
        if _pool_pid != os.getpid():
            _pools.clear()
            _pool_pid = os.getpid()
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="crucible-decode")
        return _pools[threads]


def run_chunked(
    n: int, work: Callable[[int, int], T], *, io: bool = False, nbytes: int | None = None
) -> list[T]:
    """Run ``work(start, stop)`` over ``range(n)`` in contiguous chunks, in order.

    When ``nbytes`` (the encoded bytes of the ``n`` items) is known, it sizes the work:
    items under :data:`SERIAL_BYTES` each on average (tiny images, whose decode is mostly
    GIL-held Python) run in the calling thread -- threads would only fight over the GIL --
    and otherwise each thread's chunk holds at least :data:`CHUNK_BYTES`. Without
    ``nbytes`` (files read from paths), the first few items run in the calling thread as a
    timed probe: under :data:`SERIAL_BELOW` seconds each, the rest runs there too. Else the
    rest runs in chunks (up to :data:`CHUNKS_PER_THREAD` per thread) on the shared pool.
    ``io=True`` (files fetched from URLs) skips both and uses the larger pool. The first
    exception is re-raised.

    Examples
    --------
    >>> run_chunked(3, lambda start, stop: (start, stop))
    [(0, 3)]
    >>> sum(run_chunked(100, lambda start, stop: stop - start))
    100
    >>> run_chunked(100, lambda start, stop: (start, stop), nbytes=100 * 300)  # tiny: serial
    [(0, 100)]
    """
    threads = IO_THREADS if io else THREADS
    if n < _MIN_PARALLEL or threads == 1:
        return [work(0, n)] if n else []
    done: list[T] = []
    start = 0
    chunks = threads * CHUNKS_PER_THREAD
    if not io and nbytes is not None:
        chunks = min(chunks, nbytes // CHUNK_BYTES)
        if nbytes < SERIAL_BYTES * n or chunks < 2:
            return [work(0, n)]
    elif not io:
        start = min(n, _PROBE)
        began = time.perf_counter()
        done.append(work(0, start))
        if (time.perf_counter() - began) / start < SERIAL_BELOW:
            return [*done, work(start, n)] if start < n else done
    left = n - start
    chunks = min(left, chunks)
    bounds = [(start + i * left // chunks, start + (i + 1) * left // chunks) for i in range(chunks)]
    pool = _executor(threads)
    futures = [pool.submit(work, lo, hi) for lo, hi in bounds]
    try:
        return [*done, *(f.result() for f in futures)]
    finally:
        for f in futures:
            f.cancel()


def encoded_bytes(data: Sequence[bytes | None], nulls: Sequence[bool]) -> int | None:
    """The total size of the values' bytes, or ``None`` when one is read from a path.

    Examples
    --------
    >>> encoded_bytes([b"abc", None], [False, True]), encoded_bytes([None], [False])
    (3, None)
    """
    total = 0
    for d, null in zip(data, nulls, strict=True):
        if d is not None:
            total += len(d)
        elif not null:
            return None
    return total


def has_remote(data: Sequence[bytes | None], paths: Sequence[str | None]) -> bool:
    """Whether some value must be fetched from a URL (no bytes, a ``scheme://`` path).

    Examples
    --------
    >>> has_remote([None, b"x"], ["hf://d/a.png", None]), has_remote([None], ["/a.png"])
    (True, False)
    """
    return any(d is None and p is not None and "://" in p for d, p in zip(data, paths, strict=True))


def _split(values: Sequence[dict[str, Any] | None]) -> tuple[list[Any], list[Any], list[bool]]:
    data = [None if v is None else v.get("bytes") for v in values]
    paths = [None if v is None else v.get("path") for v in values]
    return data, paths, [v is None for v in values]


@dataclass(frozen=True)
class _Column:
    """The image fields of one column and what every image's decode shares."""

    data: Sequence[bytes | None]
    paths: Sequence[str | None]
    nulls: Sequence[bool]
    mode: str | None
    size: ImageSize | None
    base_path: str | None
    column: str
    rows: Sequence[int] | range
    policy: OnError

    def decode(self, i: int) -> PIL.Image.Image | None:
        """The ``i``-th image (``None`` for a null value, or a corrupt one under ``"warn"``)."""
        if self.nulls[i]:
            return None
        return decode_value(
            self.data[i],
            self.paths[i],
            mode=self.mode,
            size=self.size,
            base_path=self.base_path,
            column=self.column,
            row=self.rows[i],
            policy=self.policy,
        )

    def run(self, work: Callable[[int, int], T]) -> list[T]:
        """:func:`run_chunked` over the column (the larger pool when images are remote)."""
        return run_chunked(
            len(self.data),
            work,
            io=has_remote(self.data, self.paths),
            nbytes=encoded_bytes(self.data, self.nulls),
        )


def decode_images(
    values: Sequence[dict[str, Any] | None],
    *,
    mode: str | None = None,
    column: str = "image",
    first_row: int = 0,
    base_path: str | None = None,
    size: ImageSize | None = None,
) -> list[PIL.Image.Image | None]:
    """Decode a column of image values in the thread pool, keeping order.

    Errors name ``first_row + i`` as the row of the ``i``-th value.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); PIL.Image.new("RGB", (4, 4)).save(buf, format="PNG")
    >>> [im.mode for im in decode_images([{"bytes": buf.getvalue(), "path": None}] * 2)]
    ['RGB', 'RGB']
    """
    data, paths, nulls = _split(values)
    return decode_fields(
        data,
        paths,
        nulls,
        mode=mode,
        column=column,
        first_row=first_row,
        base_path=base_path,
        size=size,
    )


def decode_fields(
    data: Sequence[bytes | None],
    paths: Sequence[str | None],
    nulls: Sequence[bool],
    *,
    mode: str | None = None,
    column: str = "image",
    first_row: int = 0,
    base_path: str | None = None,
    size: ImageSize | None = None,
    rows: Sequence[int] | None = None,
) -> list[PIL.Image.Image | None]:
    """:func:`decode_images` over the struct's fields (``nulls[i]``: the whole value is null).

    Errors name ``rows[i]`` (default ``first_row + i``) as the row of the ``i``-th image.

    Examples
    --------
    >>> decode_fields([None], [None], [True])
    [None]
    """
    rows = range(first_row, first_row + len(data)) if rows is None else rows
    images = _Column(
        data, paths, nulls, mode, size, base_path, column, rows, current_image_decode_errors()
    )
    chunks = images.run(lambda start, stop: [images.decode(i) for i in range(start, stop)])
    return [image for chunk in chunks for image in chunk]


class _Stacker:
    """Collects decoded arrays into one preallocated block while their shapes agree."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.block: np.ndarray | None = None
        self.ragged = False
        self.lock = threading.Lock()

    def put(self, i: int, array: np.ndarray) -> bool:
        """Copy ``array`` into row ``i`` of the block; ``False`` if it does not fit."""
        block = self.block
        if block is None:
            with self.lock:
                if self.block is None and not self.ragged:
                    self.block = np.empty((self.n, *array.shape), dtype=array.dtype)
                block = self.block
        if block is None or block.shape[1:] != array.shape or block.dtype != array.dtype:
            self.ragged = True
            return False
        block[i] = array
        return True


def decode_images_to_array(
    values: Sequence[dict[str, Any] | None] | None = None,
    *,
    data: Sequence[bytes | None] | None = None,
    paths: Sequence[str | None] | None = None,
    nulls: Sequence[bool] | None = None,
    mode: str | None = None,
    column: str = "image",
    first_row: int = 0,
    base_path: str | None = None,
    size: ImageSize | None = None,
) -> np.ndarray | list[np.ndarray | None]:
    """Decode images to arrays as ``datasets``' numpy format: ``np.asarray(PIL image)``.

    8-bit images give ``uint8`` (H×W for one band such as ``L`` or ``P``, H×W×C otherwise;
    ``1`` gives ``bool``, ``I;16`` ``uint16``, ``I`` ``int32``, ``F`` ``float32``). When every
    image has one shape and dtype the result is one stacked ``(N, H, W[, C])`` array,
    written in place by the decode threads; otherwise a list of arrays (``None`` for null
    values). ``datasets`` gives an object array there; a list indexes and iterates alike.

    Pass either ``values`` (the ``{"bytes", "path"}`` dicts) or the ``data``/``paths``
    fields (and ``nulls``, where the whole value is null).

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); PIL.Image.new("RGB", (4, 2)).save(buf, format="PNG")
    >>> decode_images_to_array([{"bytes": buf.getvalue(), "path": None}] * 3).shape
    (3, 2, 4, 3)
    >>> decode_images_to_array([{"bytes": buf.getvalue(), "path": None}], size=(8, 8)).shape
    (1, 8, 8, 3)
    """
    if values is not None:
        data, paths, nulls = _split(values)
    assert data is not None and paths is not None
    n = len(data)
    nulls = nulls if nulls is not None else [False] * n
    stacker = _Stacker(n)
    leftovers: dict[int, np.ndarray | None] = {}
    rows = range(first_row, first_row + n)
    images = _Column(
        data, paths, nulls, mode, size, base_path, column, rows, current_image_decode_errors()
    )

    fast = size is None  # plain PNGs skip Image.open (media.png); resizing needs Pillow

    def work(start: int, stop: int) -> dict[int, np.ndarray | None]:
        rest: dict[int, np.ndarray | None] = {}
        pngs = PngArrays(mode)
        for i in range(start, stop):
            array = pngs.decode(data[i]) if fast and not nulls[i] else None
            if array is None:
                image = images.decode(i)
                if image is None:
                    stacker.ragged = True
                    rest[i] = None
                    continue
                array = np.asarray(image)
            if not stacker.put(i, array):
                rest[i] = array
        return rest

    for chunk in images.run(work):
        leftovers.update(chunk)
    if not stacker.ragged and stacker.block is not None:
        return stacker.block
    block = stacker.block
    return [
        leftovers[i] if i in leftovers else None if block is None else block[i].copy()
        for i in range(n)
    ]


def image_to_array(image: PIL.Image.Image | None) -> np.ndarray | None:
    """A decoded image as an array, as ``np.asarray`` gives it (H×W for one band, else H×W×C).

    Examples
    --------
    >>> image_to_array(PIL.Image.new("RGB", (4, 2))).shape
    (2, 4, 3)
    """
    return None if image is None else np.asarray(image)


def stack_or_list(arrays: list[np.ndarray | None]) -> np.ndarray | list[np.ndarray | None]:
    """One stacked array when every shape and dtype agree, else the list unchanged.

    Examples
    --------
    >>> stack_or_list([np.zeros((2, 2)), np.zeros((2, 2))]).shape
    (2, 2, 2)
    >>> len(stack_or_list([np.zeros((2, 2)), np.zeros((3, 2))]))
    2
    """
    if arrays and all(a is not None for a in arrays):
        shapes = {a.shape for a in arrays if a is not None}
        dtypes = {a.dtype for a in arrays if a is not None}
        if len(shapes) == 1 and len(dtypes) == 1:
            return np.stack(arrays)  # type: ignore[arg-type]
    return arrays


__all__ = [
    "CHUNKS_PER_THREAD",
    "CHUNK_BYTES",
    "IO_THREADS",
    "SERIAL_BELOW",
    "SERIAL_BYTES",
    "THREADS",
    "decode_fields",
    "decode_images",
    "decode_images_to_array",
    "encoded_bytes",
    "has_remote",
    "image_to_array",
    "run_chunked",
    "stack_or_list",
]
