"""What killed processes leave behind in a cache, found and removed by the next one.

A process killed with ``kill -9`` runs no cleanup: an archive extraction leaves its
``.{key}.tmp-{uuid}`` folder, a ``huggingface_hub`` download its ``{etag}.{id}.incomplete``
file (each download writes a file of its own, so a later one never resumes it). Both are
owned through a file lock, as ``huggingface_hub`` owns its downloads: the owner holds an
``flock`` while the temporary path exists, and the system releases it when the process
dies, whatever killed it. A later process that can take the lock knows the owner is gone
and removes what it left. (A temporary folder without a lock file, from an older version, is
removed once it is :data:`STALE_AFTER_SECONDS` old.)

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> with owned_temporary(root / ".a.tmp-1") as folder:
...     folder.mkdir()
...     sweep_temporaries(root), folder.exists()  # its owner is alive: kept
([], True)
>>> _ = lock_of(folder).write_text("")  # what a kill -9 leaves: the folder, a free lock
>>> sweep_temporaries(root), sorted(p.name for p in root.iterdir())
(['.a.tmp-1'], [])
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

TEMPORARY_MARK = ".tmp-"
"""What the name of a temporary folder owned this way holds (``.{name}.tmp-{uuid}``)."""

LOCK_SUFFIX = ".lock"
STALE_AFTER_SECONDS = 24 * 3600.0
"""A temporary folder without a lock file (an older version's) is removed past this age."""


def lock_of(path: Path) -> Path:
    """The lock file that owns the temporary ``path``.

    Parameters
    ----------
    path
        A temporary folder.

    Examples
    --------
    >>> lock_of(Path("/cache/.a.tmp-1")).name
    '.a.tmp-1.lock'
    """
    return path.with_name(path.name + LOCK_SUFFIX)


@contextmanager
def owned_temporary(path: Path) -> Iterator[Path]:
    """Own ``path`` (not created here) for the block: its lock is held from before it is
    created until after it is gone (the block removes or renames it), then the lock file is
    removed.

    Parameters
    ----------
    path
        The temporary folder to be.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with owned_temporary(root / ".x.tmp-2") as folder:
    ...     lock_of(folder).exists()
    True
    >>> list(root.iterdir())
    []
    """
    lock = lock_of(path)
    owner: FileLock | None = FileLock(str(lock), timeout=0)
    try:
        owner.acquire()  # type: ignore[union-attr]
    except NotImplementedError:  # no flock on this file system: removed by age only
        owner = None
    try:
        yield path
    finally:
        if owner is not None:
            owner.release()
            lock.unlink(missing_ok=True)


def _take(lock: Path) -> FileLock | None:
    """The lock, held, if nobody holds it (its owner is gone); else ``None``. (Created, if
    missing, group-writable as ``huggingface_hub`` creates its own.)"""
    taken = FileLock(str(lock), timeout=0, mode=0o664)
    try:
        taken.acquire()
    except (Timeout, OSError, NotImplementedError):
        return None
    return taken


def sweep_temporaries(root: Path) -> list[str]:
    """Remove the temporary folders in ``root`` whose owner is gone (and orphan lock files).

    Parameters
    ----------
    root
        A folder holding ``.{name}.tmp-{uuid}`` folders (e.g. extracted archives).

    Returns
    -------
    list[str]
        The names of the folders removed.

    Examples
    --------
    >>> import tempfile
    >>> sweep_temporaries(Path(tempfile.mkdtemp()))
    []
    """
    removed: list[str] = []
    try:
        names = os.listdir(root)
    except OSError:
        return removed
    for name in sorted(names):
        if not name.startswith(".") or TEMPORARY_MARK not in name:
            continue
        path = root / name
        if name.endswith(LOCK_SUFFIX):
            folder = path.with_name(name[: -len(LOCK_SUFFIX)])
            if not folder.exists():
                _drop_orphan_lock(path)
            continue
        lock = lock_of(path)
        if lock.exists():
            taken = _take(lock)
            if taken is None:
                continue  # its owner is at work
            try:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(name)
            finally:
                taken.release()
                lock.unlink(missing_ok=True)
        elif _age(path) > STALE_AFTER_SECONDS:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
    return removed


def _drop_orphan_lock(lock: Path) -> None:
    taken = _take(lock)
    if taken is not None:
        taken.release()
        lock.unlink(missing_ok=True)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def sweep_incomplete_downloads(cache_dir: str, storage_folder: str) -> list[str]:
    """Remove the ``.incomplete`` files of a repository's cache folder that no download is
    writing: those whose blob's ``huggingface_hub`` lock nobody holds.

    ``huggingface_hub`` downloads a blob under the lock ``{cache}/.locks/{repo folder}/
    {etag}.lock`` into ``blobs/{etag}.{id}.incomplete`` and renames it when done; a file
    left with a free lock belongs to a killed download.

    Parameters
    ----------
    cache_dir
        The ``huggingface_hub`` cache folder.
    storage_folder
        The repository's folder in it (``datasets--owner--name``).

    Returns
    -------
    list[str]
        The names of the files removed.

    Examples
    --------
    >>> import tempfile
    >>> cache = tempfile.mkdtemp()
    >>> blobs = Path(cache, "datasets--o--r", "blobs"); blobs.mkdir(parents=True)
    >>> _ = (blobs / "abc.1234abcd.incomplete").write_bytes(b"part")
    >>> sweep_incomplete_downloads(cache, str(blobs.parent))
    ['abc.1234abcd.incomplete']
    """
    blobs = Path(storage_folder) / "blobs"
    try:
        names = [n for n in os.listdir(blobs) if n.endswith(".incomplete")]
    except OSError:
        return []
    removed: list[str] = []
    locks = Path(cache_dir) / ".locks" / Path(storage_folder).name
    for etag in sorted({n.split(".", 1)[0] for n in names}):
        lock = locks / f"{etag}.lock"
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return removed  # a read-only cache: leave it
        taken = _take(lock)
        if taken is None:
            continue  # a download of that blob is running
        try:
            for name in names:
                if name.split(".", 1)[0] == etag:
                    try:
                        (blobs / name).unlink()
                        removed.append(name)
                    except FileNotFoundError:
                        pass
                    except OSError:
                        return removed
        finally:
            taken.release()
    return removed
