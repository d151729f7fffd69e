"""Data-file patterns: glob matching over a file listing and split inference.

The same rules serve a local folder and a Hub repository: a source lists its files once
(relative POSIX paths) and everything here works on that list, so no filesystem is asked
twice. The rules mirror ``datasets.data_files`` (fsspec >= 2023.12 glob semantics).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import PurePosixPath

from fsspec.utils import glob_translate

DataFilesSpec = (
    str | os.PathLike[str] | Sequence[str] | Mapping[str, "str | os.PathLike[str] | Sequence[str]"]
)

SPLIT_KEYWORDS: dict[str, list[str]] = {
    "train": ["train", "training"],
    "validation": ["validation", "valid", "dev", "val"],
    "test": ["test", "testing", "eval", "evaluation"],
}
DEFAULT_SPLITS = ["train", "validation", "test"]
_SEP = "-._ 0-9"
_FILENAME_PATTERNS = ["**/{keyword}[{sep}]*", "**/*[{sep}]{keyword}[{sep}]*"]
_DIRNAME_PATTERNS = [
    "**/{keyword}/**",
    "**/{keyword}[{sep}]*/**",
    "**/*[{sep}]{keyword}/**",
    "**/*[{sep}]{keyword}[{sep}]*/**",
]
SPLIT_PATTERN_SHARDED = "data/{split}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*"
FILES_TO_IGNORE = {
    "README.md",
    "config.json",
    "dataset_info.json",
    "dataset_infos.json",
    "dummy_data.zip",
    "dataset_dict.json",
    ".gitattributes",
}
_SPLIT_NAME_RE = re.compile(r"^\w+(\.\w+)*$")


def _split_patterns(templates: list[str]) -> dict[str, list[str]]:
    return {
        split: [t.format(keyword=k, sep=_SEP) for k in SPLIT_KEYWORDS[split] for t in templates]
        for split in DEFAULT_SPLITS
    }


PATTERNS_SPLIT_IN_DIR_NAME = _split_patterns(_DIRNAME_PATTERNS)
PATTERNS_SPLIT_IN_FILENAME = _split_patterns(_FILENAME_PATTERNS)


@lru_cache(maxsize=1024)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob (``*``, ``?``, ``[...]``, ``**``) to a regex over POSIX paths.

    The translation is ``fsspec.utils.glob_translate``, the one ``fsspec``'s ``glob`` (hence
    ``HfFileSystem`` and ``datasets``' data-file resolution) uses: ``*`` never crosses ``/``
    and a ``**`` component matches zero or more folders. Compiled patterns are cached.

    Parameters
    ----------
    pattern
        A glob over relative POSIX paths; leading and trailing ``/`` are ignored.

    Raises
    ------
    ValueError
        ``**`` inside a path component (``data/**.csv``), which ``fsspec`` refuses too.

    Examples
    --------
    >>> bool(glob_to_regex("**/train[-._ 0-9]*").match("data/train-0.csv"))
    True
    >>> bool(glob_to_regex("*.csv").match("data/a.csv"))
    False
    """
    return re.compile(glob_translate(pattern.strip("/")))


def has_magic(pattern: str) -> bool:
    """Whether ``pattern`` contains glob wildcards.

    Examples
    --------
    >>> has_magic("data/*.parquet"), has_magic("data/train.parquet")
    (True, False)
    """
    return any(ch in pattern for ch in "*?[")


def _is_hidden_unrequested(path: str, pattern: str) -> bool:
    def hidden(p: str) -> int:
        return sum(
            1 for part in PurePosixPath(p).parts if part.startswith(".") and set(part) != {"."}
        )

    def special(p: str) -> int:
        return sum(1 for part in PurePosixPath(p).parent.parts if part.startswith("__"))

    return hidden(path) != hidden(pattern) or special(path) != special(pattern)


def match_files(pattern: str, files: Iterable[str]) -> list[str]:
    """The files of a listing that ``pattern`` matches, sorted, as ``datasets`` resolves them.

    Hidden files and folders (``.x``) and ``__x`` folders are skipped unless the pattern names
    them; ``README.md`` and other metadata files are skipped for wildcard patterns.

    Examples
    --------
    >>> match_files("**", ["README.md", "a/train.csv", ".git/x", "test.csv"])
    ['a/train.csv', 'test.csv']
    """
    pattern = pattern.lstrip("./") if pattern.startswith("./") else pattern
    if not has_magic(pattern):
        return [pattern] if pattern in set(files) else []
    regex = glob_to_regex(pattern)
    return sorted(
        f
        for f in files
        if regex.match(f)
        and PurePosixPath(f).name not in FILES_TO_IGNORE
        and not _is_hidden_unrequested(f, pattern)
    )


def normalize_data_files(data_files: DataFilesSpec) -> dict[str, list[str]]:
    """Normalize a ``data_files`` argument to ``{split: [pattern, ...]}`` (default split train).

    Accepts a string, a list, a ``{split: str | list}`` dict, or ``datasets``' list of
    ``{"split": ..., "path": ...}`` entries (the YAML ``configs:`` form).

    Examples
    --------
    >>> normalize_data_files("data/*.csv")
    {'train': ['data/*.csv']}
    >>> normalize_data_files([{"split": "test", "path": "t.csv"}])
    {'test': ['t.csv']}
    """
    if isinstance(data_files, (str, os.PathLike)):
        return {"train": [os.fspath(data_files)]}
    if isinstance(data_files, Mapping):
        return {
            str(k): [os.fspath(v)] if isinstance(v, (str, os.PathLike)) else [str(x) for x in v]
            for k, v in data_files.items()
        }
    items = list(data_files)
    if items and all(isinstance(x, Mapping) for x in items):
        out: dict[str, list[str]] = {}
        for entry in items:
            assert isinstance(entry, Mapping)
            split, path = str(entry["split"]), entry["path"]
            if split in out:
                raise ValueError(f"Split {split!r} is listed twice in data_files.")
            out[split] = [path] if isinstance(path, str) else [str(p) for p in path]
        return out
    return {"train": [str(x) for x in items]}


def infer_split_patterns(files: Sequence[str]) -> dict[str, list[str]]:
    """Infer ``{split: patterns}`` from file and folder names, as ``datasets`` does.

    Order of precedence: ``data/{split}-00000-of-00001.*`` shards, then split keywords in
    folder names, then in file names, then everything is ``train``.

    Examples
    --------
    >>> sorted(infer_split_patterns(["data/train-00000-of-00001.parquet",
    ...                              "data/test-00000-of-00001.parquet"]))
    ['test', 'train']
    >>> list(infer_split_patterns(["dev.jsonl", "train.jsonl"]))
    ['train', 'validation']
    """
    shard_regex = glob_to_regex(SPLIT_PATTERN_SHARDED.replace("{split}", "*"))
    sharded = [f for f in files if shard_regex.match(f)]
    if sharded:
        splits = {PurePosixPath(f).name.split("-")[0] for f in sharded}
        bad = sorted(s for s in splits if not _SPLIT_NAME_RE.match(s))
        if bad:
            raise ValueError(f"Split name should match '{_SPLIT_NAME_RE.pattern}' but got {bad}.")
        ordered = [s for s in DEFAULT_SPLITS if s in splits] + sorted(splits - set(DEFAULT_SPLITS))
        return {s: [SPLIT_PATTERN_SHARDED.format(split=s)] for s in ordered}
    for table in (PATTERNS_SPLIT_IN_DIR_NAME, PATTERNS_SPLIT_IN_FILENAME):
        found = {
            split: patterns
            for split, patterns in table.items()
            if any(match_files(p, files) for p in patterns)
        }
        if found:
            return found
    return {"train": ["**"]}


def resolve_patterns(
    patterns: Sequence[str], files: Sequence[str], *, extensions: Sequence[str] | None = None
) -> list[str]:
    """Resolve patterns against a listing, keeping order and dropping duplicates.

    With ``extensions``, only files whose suffixes (compression ignored) include one of them
    are kept, as ``datasets`` filters files by the chosen builder.

    Examples
    --------
    >>> resolve_patterns(["*.csv", "a.csv"], ["a.csv", "b.csv", "c.txt"])
    ['a.csv', 'b.csv']
    """
    out: list[str] = []
    seen: set[str] = set()
    for pattern in patterns:
        for f in match_files(pattern, files):
            if f not in seen and (extensions is None or has_extension(f, extensions)):
                seen.add(f)
                out.append(f)
    return out


def has_extension(path: str, extensions: Sequence[str]) -> bool:
    """Whether any of the file name's dotted suffixes is in ``extensions`` (case-insensitive).

    Examples
    --------
    >>> has_extension("train.jsonl.gz", [".jsonl"]), has_extension("a.csv", [".json"])
    (True, False)
    """
    suffixes = {"." + s.lower() for s in PurePosixPath(path).name.split(".")[1:]}
    return bool(suffixes & {e.lower() for e in extensions})
