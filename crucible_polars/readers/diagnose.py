"""Byte-level checks shared by the text readers, run before a scan or after it failed.

They name the file and line of what Polars only reports in general terms: an empty or
blank file, bytes that are not UTF-8 (with the encoding to pass instead), a UTF-16
byte-order mark, a file of another format than the one read (parquet among JSON lines).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from crucible_polars.errors import DataFileError
from crucible_polars.readers.compressed import compression_of, open_path
from crucible_polars.readers.extensions import format_for_extension

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
BINARY_FORMATS = ("parquet", "arrow")


def byte_lines(path: str) -> Iterator[bytes]:
    """The raw lines of a (possibly compressed) local or remote file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt"); _ = open(p, "wb").write(b"a\\nb")
    >>> list(byte_lines(p))
    [b'a\\n', b'b']
    """
    with open_path(path, compression_of(path)) as raw:
        yield from raw


def read_decoded(
    path: str, encoding: str = "utf-8", errors: str | None = None, storage_options: Any = None
) -> str:
    """A whole (possibly compressed, local or remote) file decoded with ``encoding``; bytes
    that do not decode raise :class:`DataFileError` naming the file, line and what to pass.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt"); _ = open(p, "wb").write(b"a\\n\\xe9")
    >>> read_decoded(p, "latin-1")
    'a\\né'
    >>> read_decoded(p)
    Traceback (most recent call last):
    ...
    crucible_polars.errors.DataFileError: ...line 2: is not valid utf-8 ...
    """
    with open_path(path, compression_of(path), storage_options) as raw:
        data = raw.read()
    try:
        return str(data.decode(encoding, errors=errors or "strict"))
    except UnicodeDecodeError as err:
        raise DataFileError(
            path,
            f"is not valid {encoding} ({err.reason}); pass encoding= (e.g. 'latin-1') or "
            "encoding_errors='replace'",
            row=data[: err.start].count(b"\n") + 1,
        ) from err


def head_bytes(path: str, size: int = 4) -> bytes:
    """The first ``size`` bytes of a (possibly compressed) file."""
    with open_path(path, compression_of(path)) as raw:
        return bytes(raw.read(size))


def has_utf16_bom(path: str) -> bool:
    """Whether the file starts with a UTF-16 byte-order mark.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv"); _ = open(p, "wb").write("a".encode("utf-16"))
    >>> has_utf16_bom(p)
    True
    """
    return head_bytes(path, 2) in UTF16_BOMS


def blank_file_error(path: str, what: str) -> DataFileError | None:
    """An error naming ``path`` when it holds nothing but whitespace.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.jsonl"); _ = open(p, "w").write("  \\n")
    >>> print(blank_file_error(p, "JSON").reason)
    is empty (no JSON data, only whitespace); remove it from data_files or fill it
    """
    for line in byte_lines(path):
        if line.strip():
            return None
    return DataFileError(
        path, f"is empty (no {what} data, only whitespace); remove it from data_files or fill it"
    )


def invalid_utf8_error(path: str) -> DataFileError | None:
    """An error naming the first line of ``path`` that is not UTF-8, and what to pass.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv"); _ = open(p, "wb").write(b"a\\ncaf\\xe9\\n")
    >>> err = invalid_utf8_error(p)
    >>> err.row, "encoding='latin-1'" in err.reason
    (2, True)
    """
    if has_utf16_bom(path):
        return DataFileError(
            path, "is UTF-16 (it starts with a UTF-16 byte-order mark); pass encoding='utf-16'"
        )
    for number, line in enumerate(byte_lines(path), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            byte = line[err.start : err.start + 1].hex()
            return DataFileError(
                path,
                f"is not valid UTF-8 (byte 0x{byte} at column {err.start + 1}); pass its "
                "encoding, e.g. encoding='latin-1', or encoding_errors='replace'",
                row=number,
            )
    return None


def format_mismatch_error(fmt: str, files: list[str]) -> DataFileError | None:
    """An error naming a file of a binary format read as text, or the other way round
    (a config mixing parquet and JSON lines files), judging by the extension.

    Examples
    --------
    >>> print(format_mismatch_error("parquet", ["a.parquet", "b.jsonl"]).reason)
    is a json file, but the files of this split are read as parquet: a config holds files \
of one format; split them into two configs (or pass data_files= of one format)
    >>> format_mismatch_error("csv", ["a.txt"]) is None
    True
    """
    for path in files:
        name = PurePosixPath(path.split("::")[0]).name.lower()
        kinds = [format_for_extension("." + s) for s in name.split(".")[1:]]
        other = next((k for k in kinds if k is not None), None)
        if other is None or other == fmt or other == "imagefolder":
            continue
        if other in BINARY_FORMATS or fmt in BINARY_FORMATS:
            return DataFileError(
                path,
                f"is a {other} file, but the files of this split are read as {fmt}: a config "
                "holds files of one format; split them into two configs (or pass data_files= "
                "of one format)",
            )
    return None
