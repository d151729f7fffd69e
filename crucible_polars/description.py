"""The description of a dataset config, as :func:`crucible_polars.hub.describe` reports it.

:class:`HubDescription` holds the configs and one config's splits, sizes and features;
:func:`summarize` fills it from the card's ``dataset_info:`` and, where the card is silent,
from parquet footers (a few range requests each for a remote file, no data read).

Examples
--------
>>> SplitSummary("test", None, 2, 0).num_rows is None
True
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Any

from crucible_polars.cache.common import format_size, format_table
from crucible_polars.features import Features
from crucible_polars.resolve.card import dataset_info_features, dataset_info_rows

__all__ = [
    "MAX_FOOTERS_PER_SPLIT",
    "HubDescription",
    "Opener",
    "SplitSummary",
    "parquet_footers",
    "summarize",
]

#: Opens a file of the dataset (a path relative to its root) for binary reading.
Opener = Callable[[str], AbstractContextManager[IO[bytes]]]

#: Splits of more than this many parquet files keep an unknown row count (no footer is read).
MAX_FOOTERS_PER_SPLIT = 50


@dataclass(frozen=True)
class SplitSummary:
    """One split of a described config: rows (``None`` when unknown), files and bytes.

    Parameters
    ----------
    name
        The split name.
    num_rows
        Its rows, or ``None`` when unknown without a load.
    num_files
        Its data files.
    num_bytes
        Their total size in bytes.

    Examples
    --------
    >>> SplitSummary("train", 200, 1, 1024).num_rows
    200
    """

    name: str
    num_rows: int | None
    num_files: int
    num_bytes: int


@dataclass(frozen=True)
class HubDescription:
    """What :func:`describe` found: the configs, and one config's splits, sizes and features.

    Parameters
    ----------
    repo_id, revision, sha, configs, config
        The attributes of the same names (see Attributes).
    format, parquet_branch, splits, features, features_origin
        The attributes of the same names (see Attributes).

    Attributes
    ----------
    repo_id : str
        The Hub id, or the folder for a local dataset.
    revision, sha : str or None
        The revision asked for (``None``: ``main``) and the commit it resolved to; ``None``
        for a local folder.
    configs : tuple of str
        Every config, in README order.
    config : str or None
        The config described; ``None`` when none was named and there is no default one.
    format : str or None
        The config's file format (``parquet``, ``json``, ...).
    parquet_branch : bool
        Whether the files are those of the Hub's ``refs/convert/parquet`` conversion.
    splits : tuple of SplitSummary
    features : Features or None
        From the card's ``dataset_info``, else the parquet schema; ``None`` when only a load
        can tell (CSV, JSON and text files carry no schema).
    features_origin : str
        Where ``features`` come from, in words.

    Examples
    --------
    >>> d = HubDescription("o/d", None, "a" * 40, ("default",), "default", "csv", False,
    ...                    (SplitSummary("train", None, 1, 10),), None, "inferred when loaded")
    >>> print(d)
    o/d  revision main (aaaaaaaaaa)
    configs (1): default
    config default: csv files, 1 split(s)
      SPLIT  ROWS  FILES  SIZE
      -----  ----  -----  ----
      train  ?     1      10 B
    features: inferred when loaded
    """

    repo_id: str
    revision: str | None
    sha: str | None
    configs: tuple[str, ...]
    config: str | None
    format: str | None
    parquet_branch: bool
    splits: tuple[SplitSummary, ...]
    features: Features | None
    features_origin: str

    @classmethod
    def configs_only(
        cls,
        repo_id: str,
        revision: str | None,
        sha: str | None,
        configs: list[str],
        *,
        parquet_branch: bool = False,
    ) -> HubDescription:
        """A description listing the configs only (no config chosen yet).

        Parameters
        ----------
        repo_id, revision, sha
            As the attributes.
        configs
            The config names.
        parquet_branch
            Whether the files come from ``refs/convert/parquet``.

        Examples
        --------
        >>> HubDescription.configs_only("o/d", None, "a" * 40, ["a", "b"]).config is None
        True
        """
        return cls(repo_id, revision, sha, tuple(configs), None, None, parquet_branch, (), None, "")

    def lines(self) -> list[str]:
        """The report, one line each (what ``str()`` joins and ``crucible-polars info`` prints).

        Examples
        --------
        >>> for line in HubDescription("/data/x", None, None, ("a", "b"), None, None, False,
        ...                            (), None, "").lines():
        ...     print(line)
        /data/x  (local)
        configs (2): a, b
        No default config: name one of them (--name CONFIG) to see its splits.
        """
        where = f"revision {self.revision or 'main'} ({self.sha[:10]})" if self.sha else "(local)"
        lines = [f"{self.repo_id}  {where}"]
        lines.append(f"configs ({len(self.configs)}): " + ", ".join(self.configs))
        if self.config is None:
            hint = "No default config: name one of them (--name CONFIG) to see its splits."
            return [*lines, hint]
        branch = " (from refs/convert/parquet)" if self.parquet_branch else ""
        count = f"{len(self.splits)} split(s)"
        lines.append(f"config {self.config}: {self.format} files{branch}, {count}")
        rows = [
            [
                s.name,
                "?" if s.num_rows is None else str(s.num_rows),
                str(s.num_files),
                format_size(s.num_bytes),
            ]
            for s in self.splits
        ]
        table = format_table(["SPLIT", "ROWS", "FILES", "SIZE"], rows)
        lines += textwrap.indent(table, "  ").splitlines()
        if self.features is None:
            return [*lines, f"features: {self.features_origin}"]
        lines.append(f"features ({self.features_origin}):")
        return lines + [f"  {column}: {feature!r}" for column, feature in self.features.items()]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def summarize(
    head: HubDescription,
    config: str,
    fmt: str,
    files: dict[str, list[str]],
    sizes: dict[str, int],
    meta: dict[str, Any],
    open_file: Opener,
) -> HubDescription:
    """The description of one config: features and row counts from the card's
    ``dataset_info``, else from parquet footers (read through ``open_file``).

    Parameters
    ----------
    head
        The description so far (:meth:`HubDescription.configs_only`).
    config, fmt
        The config described and its file format.
    files, sizes
        ``{split: [path, ...]}`` and ``{path: bytes}``.
    meta
        The card metadata.
    open_file
        Opens a path of ``files`` for reading (a local file or a remote one).

    Examples
    --------
    >>> meta = {"dataset_info": {"features": [{"name": "a", "dtype": "int64"}],
    ...                          "splits": [{"name": "train", "num_examples": 3}]}}
    >>> head = HubDescription.configs_only("o/d", None, "a" * 40, ["default"])
    >>> d = summarize(head, "default", "parquet", {"train": ["t.parquet"]}, {"t.parquet": 9},
    ...               meta, open)
    >>> d.splits, d.features_origin
    ((SplitSummary(name='train', num_rows=3, num_files=1, num_bytes=9),), 'from the dataset card')
    """
    card_features = dataset_info_features(meta).get(config)
    rows = dataset_info_rows(meta, config)
    features = Features.from_yaml(card_features) if card_features else None
    origin = "from the dataset card"
    if fmt == "parquet" and (features is None or set(files) - set(rows)):
        footer_features, rows = parquet_footers(files, rows, open_file)
        if features is None:
            features, origin = footer_features, "from the parquet files' schema"
    elif features is None:
        origin = f"inferred when loaded ({fmt} files carry no schema)"
    splits = tuple(
        SplitSummary(s, rows.get(s), len(ps), sum(sizes.get(p, 0) for p in ps))
        for s, ps in files.items()
    )
    return dataclasses.replace(
        head, config=config, format=fmt, splits=splits, features=features, features_origin=origin
    )


def parquet_footers(
    files: dict[str, list[str]], rows: dict[str, int], open_file: Opener
) -> tuple[Features | None, dict[str, int]]:
    """Features and the row counts ``rows`` lacks, from parquet footers only (no data read).

    Splits of more than :data:`MAX_FOOTERS_PER_SPLIT` files keep an unknown row count.

    Parameters
    ----------
    files
        ``{split: [path, ...]}``.
    rows
        Row counts already known (from the card).
    open_file
        Opens a path for reading.

    Examples
    --------
    >>> import io, pyarrow as pa, pyarrow.parquet as pq
    >>> sink = io.BytesIO(); pq.write_table(pa.table({"x": [1, 2]}), sink)
    >>> parquet_footers({"train": ["x"]}, {}, lambda p: io.BytesIO(sink.getvalue()))
    (Features({'x': Value('int64')}), {'train': 2})
    """
    import pyarrow.parquet as pq

    features = None
    rows = dict(rows)
    for split, paths in files.items():
        wanted = split not in rows and len(paths) <= MAX_FOOTERS_PER_SPLIT
        count = 0
        for path in paths if wanted else paths[: 1 if features is None else 0]:
            with open_file(path) as handle:
                parquet = pq.ParquetFile(handle)
                count += parquet.metadata.num_rows
                if features is None:
                    features = Features.from_arrow(parquet.schema_arrow)
        if wanted:
            rows[split] = count
    return features, rows
