"""Why a CSV scan failed, named by file and line: bytes that are not UTF-8, a quoted field
never closed, a value of another type than the rows before it, a row of the wrong width."""

from __future__ import annotations

import csv as pycsv
import re

from crucible_polars.errors import CrucibleError, DataFileError
from crucible_polars.readers.compressed import open_text_lines
from crucible_polars.readers.diagnose import invalid_utf8_error

_TYPE_CHANGE = re.compile(r"could not parse `(.*?)` as dtype `(\w+)` at column '(.+?)'", re.S)


def diagnose_csv(
    files: list[str], sep: str, error: BaseException | None = None, quotechar: str = '"'
) -> CrucibleError | None:
    """The first thing wrong in ``files``, with its 1-based line number.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(p, "w").write("a,b\\n1,2\\n3,4,5\\n")
    >>> diagnose_csv([p], ",").row
    3
    >>> _ = open(p, "w").write('a,b\\n1,x\\n2,"y\\n3,z\\n')
    >>> err = diagnose_csv([p], ",")
    >>> err.row, "never closed" in err.reason
    (3, True)
    """
    for path in files:
        found = invalid_utf8_error(path)
        if found is None:
            found = _quote_or_width_error(path, sep, quotechar)
        if found is None and error is not None:
            found = _type_change_error(path, sep, quotechar, str(error))
        if found is not None:
            return found
    return None


def _quote_or_width_error(path: str, sep: str, quotechar: str) -> DataFileError | None:
    reader = pycsv.reader(
        open_text_lines(path), delimiter=sep, quotechar=quotechar or '"', strict=True
    )
    width = None
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return None
        except pycsv.Error as err:
            return DataFileError(
                path,
                f"a quoted field that starts on this line is never closed or is malformed "
                f"({err}); fix the stray quote character, or pass quotechar= another character",
                row=start,
            )
        if width is None:
            width = len(row)
        elif row and len(row) != width:
            return DataFileError(
                path, f"row has {len(row)} fields but the header has {width}", row=start
            )
        start = reader.line_num + 1


def _type_change_error(path: str, sep: str, quotechar: str, message: str) -> DataFileError | None:
    match = _TYPE_CHANGE.search(message)
    if match is None:
        return None
    value, dtype, column = match.groups()
    reader = pycsv.reader(open_text_lines(path), delimiter=sep, quotechar=quotechar or '"')
    header = next(reader, [])
    if column not in header:
        return None
    index, start = header.index(column), reader.line_num + 1
    for row in reader:
        if index < len(row) and row[index] == value:
            return DataFileError(
                path,
                f"column {column!r} holds {value!r}, not a {dtype} like the rows before it "
                "(column types are inferred from the first 10,000 rows); pass features= with "
                f"the type of {column!r}, e.g. Value('string')",
                row=start,
            )
        start = reader.line_num + 1
    return None
