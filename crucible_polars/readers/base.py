"""What every reader returns, and the schema checks they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl

from crucible_polars.errors import CrucibleError, SchemaMismatchError

T = TypeVar("T")
ScanOptions = dict[str, Any]
Diagnose = Callable[[BaseException], "CrucibleError | None"]


def _no_diagnosis(error: BaseException) -> CrucibleError | None:
    return None


@dataclass(frozen=True)
class Scan:
    """A lazy frame over data files, plus how to explain a failure of its query.

    ``diagnose`` is only called after a collect failed; it may re-read the files slowly to
    name the file and line at fault, and returns ``None`` when it finds nothing to add.
    ``features`` is the schema stored with the files (parquet ``huggingface`` metadata).
    """

    lf: pl.LazyFrame
    diagnose: Diagnose = _no_diagnosis
    features: Any = None
    info: dict[str, Any] = field(default_factory=dict)


def run_explained(action: Callable[[], T], diagnose: Sequence[Diagnose]) -> T:
    """Run a query; if Polars (or the file system) fails, let ``diagnose`` name the culprit.

    The first callback that explains the error wins and is raised from it; errors nobody
    explains, and our own errors, pass through unchanged.

    Examples
    --------
    >>> from crucible_polars.errors import DataFileError
    >>> def bad() -> None:
    ...     raise pl.exceptions.ComputeError("boom")
    >>> try:
    ...     run_explained(bad, [lambda error: DataFileError("a.jsonl", "invalid JSON", row=2)])
    ... except DataFileError as err:
    ...     print(err.row)
    2
    """
    try:
        return action()
    except CrucibleError:
        raise
    except (pl.exceptions.PolarsError, OSError) as error:
        for explain in diagnose:
            explained = explain(error)
            if explained is not None:
                raise explained from error
        raise


def unify_schemas(files: Sequence[str], schemas: Sequence[pl.Schema]) -> pl.Schema:
    """One schema for files of one split: equal, or differing only where one side is Null.

    Columns missing from some files are allowed (filled with nulls), as ``datasets`` does
    for JSON. A real conflict raises :class:`SchemaMismatchError` naming both files.

    Examples
    --------
    >>> a, b = pl.Schema({"x": pl.Int64}), pl.Schema({"x": pl.Null, "y": pl.String})
    >>> unify_schemas(["a", "b"], [a, b])
    Schema([('x', Int64), ('y', String)])
    """
    merged: dict[str, pl.DataType] = {}
    origin: dict[str, str] = {}
    for path, schema in zip(files, schemas, strict=True):
        for name, dtype in schema.items():
            if name not in merged or merged[name] == pl.Null():
                merged[name], origin[name] = dtype, path
            elif dtype != merged[name] and dtype != pl.Null():
                raise SchemaMismatchError([origin[name], path], name, str(merged[name]), str(dtype))
    return pl.Schema(merged)
