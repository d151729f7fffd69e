"""Writing datasets to files: parquet that ``datasets`` reads with the same Features, the
names of ``save_to_disk`` folders (written by :mod:`crucible_polars.save_disk`), and the
targets of ``to_parquet`` / ``to_json`` / ``to_csv`` (:func:`write_output`: a path, an fsspec
URL or a binary file object); every write to a path or URL atomic (a temporary sibling moved
over the target), so a failure leaves nothing half-written.

Examples
--------
>>> import os, tempfile, polars as pl
>>> from crucible_polars.plan import Plan
>>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
>>> write_parquet_file(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), path)
>>> pl.read_parquet(path)["a"].to_list()
[1]
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import pyarrow as pa

from crucible_polars.info import DatasetInfo
from crucible_polars.materialize import streamable
from crucible_polars.plan import Plan
from crucible_polars.progress import tracked
from crucible_polars.readers.parquet import write_parquet
from crucible_polars.sources.upload import local_path, open_upload

DATA_FILE_TEMPLATE = "data-{index:05d}-of-{count:05d}.arrow"
INFO_FILE = "dataset_info.json"
DICT_FILE = "dataset_dict.json"
STATE_FILE = "state.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _temporary_name(target: Path, kind: str) -> Path:
    """A sibling of ``target`` only this process uses: ``.{name}.{kind}-{pid}-{random}.tmp``."""
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _leftovers(target: Path, kind: str) -> list[Path]:
    """Temporary siblings of ``target`` left by processes that are gone (killed mid-save)."""
    found = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.{kind}-*.tmp"):
        pid = path.name[len(target.name) + len(kind) + 3 :].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            found.append(path)
    return sorted(found)


def recover_interrupted_save(target: Path) -> None:
    """Finish what a save killed between its two renames left: the old folder set aside and
    no folder at ``target`` (put the old one back), and temporary folders of dead processes
    (removed).

    Parameters
    ----------
    target
        The folder a save writes.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "saved"
    >>> aside = target.parent / ".saved.old-999999999-0.tmp"
    >>> aside.mkdir()
    >>> recover_interrupted_save(target)
    >>> target.is_dir(), aside.exists()
    (True, False)
    """
    olds = _leftovers(target, "old")
    if olds and not target.exists():
        os.replace(olds.pop(), target)
    for path in [*olds, *_leftovers(target, "new")]:
        shutil.rmtree(path, ignore_errors=True)


def atomic_write(target: Path, write: Callable[[str], Any], *, is_dir: bool = False) -> None:
    """Write to a temporary sibling, then rename over ``target``; nothing half-written remains.

    A folder replacing an existing one: the old folder is renamed aside, the new one renamed
    in, then the old one deleted, so a process killed at any point leaves either folder whole
    (:func:`recover_interrupted_save` puts the old one back if it was killed in between).

    Parameters
    ----------
    target
        The file or folder to create or replace.
    write
        Writes the content at the temporary path it is given.
    is_dir
        ``target`` is a folder.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.txt"
    >>> atomic_write(target, lambda tmp: Path(tmp).write_text("hi"))
    >>> target.read_text()
    'hi'
    """
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        recover_interrupted_save(target)
        tmp = _temporary_name(target, "new")
        tmp.mkdir()
        try:
            write(str(tmp))
            if target.exists():
                aside = _temporary_name(target, "old")
                os.replace(target, aside)
                os.replace(tmp, target)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return
    fd, tmp_file = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp_file)
        os.replace(tmp_file, target)
    except BaseException:
        Path(tmp_file).unlink(missing_ok=True)
        raise


def parquet_arrow_schema(plan: Plan, info: DatasetInfo) -> pa.Schema:
    """The features' Arrow schema with the ``huggingface`` metadata (info plus features)
    that ``datasets`` reads back from a parquet file.

    Examples
    --------
    >>> import polars as pl
    >>> schema = parquet_arrow_schema(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo())
    >>> b"huggingface" in schema.metadata
    True
    """
    meta = {k: v for k, v in info.to_dict().items() if v not in (None, "", {})}
    meta["features"] = plan.features.to_dict()
    schema = plan.features.to_arrow_schema()
    return schema.with_metadata({"huggingface": json.dumps({"info": meta}, default=str)})


def write_parquet_file(
    plan: Plan, info: DatasetInfo, path: str | os.PathLike[str], **kwargs: Any
) -> None:
    """Stream ``plan`` into one parquet file with the ``huggingface`` metadata, atomically.

    Parameters
    ----------
    plan
        What to write.
    info
        Written into the metadata beside the features.
    path
        The parquet file.
    **kwargs
        Passed to the parquet writer (e.g. ``compression=``).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
    >>> write_parquet_file(Plan.from_frame(pl.DataFrame({"a": [1]})), DatasetInfo(), path)
    >>> os.path.exists(path)
    True
    """
    schema = parquet_arrow_schema(plan, info)
    plan = streamable(plan)
    with tracked(plan.known_rows(), "Creating parquet from Arrow format") as bar:
        kwargs["on_rows"] = bar.update
        atomic_write(
            Path(path), lambda tmp: plan.run(lambda: write_parquet(plan.lf, tmp, schema, **kwargs))
        )


COMPRESSIONS = (None, "infer", "gzip", "bz2", "xz")
"""The ``compression=`` values ``datasets``' ``to_json`` takes (through ``fsspec``)."""

Target = str | bytes | os.PathLike[str] | IO[bytes]


class CountingWriter(io.RawIOBase):
    """A binary file object that passes writes on to ``target`` and counts the bytes.

    Parameters
    ----------
    target
        Where the bytes go.

    Examples
    --------
    >>> counter = CountingWriter(io.BytesIO())
    >>> counter.write(b"abc"), counter.written
    (3, 3)
    """

    def __init__(self, target: IO[bytes]) -> None:
        super().__init__()
        self._target = target
        self.written = 0

    def writable(self) -> bool:
        """Always: this object only writes.

        Examples
        --------
        >>> CountingWriter(io.BytesIO()).writable()
        True
        """
        return True

    def write(self, data: Any) -> int:
        """Write ``data`` (anything with the buffer protocol) on; its length.

        Parameters
        ----------
        data
            The bytes.

        Examples
        --------
        >>> CountingWriter(io.BytesIO()).write(memoryview(b"ab"))
        2
        """
        view = memoryview(data)
        self._target.write(view.tobytes())
        self.written += view.nbytes
        return view.nbytes


def output_compression(path: str, compression: str | None) -> str | None:
    """The compression ``fsspec`` writes ``path`` with: ``compression``, or for ``"infer"``
    the one its extension names (``.gz``, ``.bz2``, ``.xz``), as ``datasets``' ``to_json``.

    Parameters
    ----------
    path
        The target path or URL.
    compression
        ``None``, ``"infer"``, ``"gzip"``, ``"bz2"`` or ``"xz"``.

    Raises
    ------
    NotImplementedError
        Any other compression (``datasets`` raises the same).

    Examples
    --------
    >>> output_compression("a.jsonl.gz", "infer"), output_compression("a.jsonl", "infer")
    ('gzip', None)
    """
    if compression not in COMPRESSIONS:
        raise NotImplementedError(
            f"compression={compression!r} is not supported: give one of "
            f"{', '.join(repr(c) for c in COMPRESSIONS)}."
        )
    if compression == "infer":
        from fsspec.utils import infer_compression

        inferred: str | None = infer_compression(path)
        return inferred if inferred in COMPRESSIONS else None
    return compression


@contextmanager
def _compressed(file: IO[bytes], compression: str | None, name: str) -> Iterator[IO[bytes]]:
    if compression is None:
        yield file
        return
    from fsspec.compression import compr

    options = (
        {"filename": name.rsplit("/", 1)[-1].removesuffix(".gz")} if compression == "gzip" else {}
    )
    with compr[compression](file, mode="wb", **options) as stream:
        yield stream


def write_output(
    path_or_buf: Target,
    write: Callable[[IO[bytes]], Any],
    *,
    sink: Callable[[str], Any] | None = None,
    storage_options: dict[str, Any] | None = None,
    compression: str | None = None,
) -> int:
    """Write a file output to a path (atomically), an fsspec URL (a temporary sibling moved
    in: :func:`~crucible_polars.sources.upload.open_upload`) or a binary file object; the
    number of bytes written (before compression, as ``datasets`` counts them).

    Parameters
    ----------
    path_or_buf
        A path (``str``, ``bytes``, ``PathLike``), an fsspec URL (``s3://``, ``memory://``,
        ``file://``...) or a binary file object.
    write
        Writes the content into the binary file object it is given.
    sink
        Writes the content as a file at the local path it is given (a faster way to the
        same bytes), used for uncompressed local files.
    storage_options
        Options of the URL's file system (``fsspec``'s names); none for a local path.
    compression
        ``None``, ``"infer"`` (from the path's extension), ``"gzip"``, ``"bz2"`` or ``"xz"``;
        a path or URL only.

    Examples
    --------
    >>> import fsspec
    >>> write_output("memory://output-doc/a.txt", lambda f: f.write(b"hi"))
    2
    >>> fsspec.filesystem("memory").cat("/output-doc/a.txt")
    b'hi'
    """
    if isinstance(path_or_buf, bytes):
        path_or_buf = os.fsdecode(path_or_buf)
    if not isinstance(path_or_buf, (str, os.PathLike)):
        if compression not in (None, "infer"):
            raise NotImplementedError(
                f"compression={compression!r} applies to a path: give a path, or compress the "
                "file object yourself (gzip.GzipFile(fileobj=...))."
            )
        counter = CountingWriter(path_or_buf)
        write(cast(IO[bytes], counter))
        return counter.written
    text = os.fspath(path_or_buf)
    codec = output_compression(text, compression)
    local = local_path(text, storage_options)

    def through(file: IO[bytes]) -> int:
        with _compressed(file, codec, text) as stream:
            counter = CountingWriter(stream)
            write(cast(IO[bytes], counter))
        return counter.written

    if local is None:
        with open_upload(text, storage_options) as file:
            return through(file)
    if sink is not None and codec is None:
        atomic_write(local, sink)
        return local.expanduser().resolve().stat().st_size
    written: list[int] = []

    def to_file(tmp: str) -> None:
        with open(tmp, "wb") as file:
            written.append(through(file))

    atomic_write(local, to_file)
    return written[0]
