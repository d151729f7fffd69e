"""The ``crucible-polars`` command line.

Look at a Hub dataset before loading it (``info``, ``head``), fetch it into the cache
(``download``), manage the cache (``cache info|prune|verify|clear``), browse the catalog of
tinker-cookbook datasets (``catalog``), and run the demo (``demo``, ``demo --hub``).

Errors print one readable line on standard error (``--debug`` shows the traceback) and exit
with status 1; tokens never appear in the output.

Examples
--------
>>> build_parser().parse_args(["head", "gsm8k", "-n", "3"]).num_rows
3
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from crucible_polars.cli_parser import build_parser

# ------------------------------------------------------------------------------------ errors

_TOKEN_PATTERN = re.compile(r"\bhf_[A-Za-z0-9]{6,}")


def _redact(text: str, token: object) -> str:
    """``text`` without any token: the one given, ``HF_TOKEN``, or anything shaped like one.

    Examples
    --------
    >>> _redact("bad token hf_abcdefghijkl for x", None)
    'bad token hf_*** for x'
    """
    for secret in (token, os.environ.get("HF_TOKEN")):
        if isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _TOKEN_PATTERN.sub("hf_***", text)


def error_line(err: BaseException, token: object = None) -> str:
    """One readable line for an error: its message, whitespace collapsed, tokens removed.

    Errors meant for users (ours, ``ValueError``, ``KeyError``, ``OSError``) are their
    message alone; anything else (a bug) is prefixed with its type.

    Parameters
    ----------
    err
        The error.
    token
        A token to keep out of the line (``HF_TOKEN`` and token-shaped text are removed too).

    Examples
    --------
    >>> from crucible_polars.errors import SplitNotFoundError
    >>> error_line(SplitNotFoundError("dev", ["train"]))
    "Unknown split 'dev'. Should be one of ['train']."
    >>> error_line(ValueError("bad\\n\\n  value")), error_line(KeyError("no 'x' column"))
    ('bad value', "no 'x' column")
    >>> error_line(ZeroDivisionError("division by zero"))
    'ZeroDivisionError: division by zero'
    """
    message = " ".join(str(err).split()) or repr(err)
    if isinstance(err, KeyError) and err.args:
        message = " ".join(str(err.args[0]).split())
    if not isinstance(err, ValueError | KeyError | OSError):
        message = f"{type(err).__name__}: {message}"
    return _redact(message, token)


# ------------------------------------------------------------------------------------ helpers


def _out(*lines: object) -> None:
    for line in lines:
        print(line)


def _hub_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"revision": args.revision, "token": args.token, "cache_dir": args.cache_dir}


def _is_local(repo: str) -> bool:
    return os.path.exists(repo)


def _repo_id(repo: str) -> str:
    from crucible_polars.catalog import resolve_short_name

    return resolve_short_name(repo) or repo


def _pick_split(splits: Sequence[str], wanted: str | None) -> str:
    if wanted is not None:
        return wanted
    if not splits:
        raise ValueError("The dataset has no splits.")
    return "train" if "train" in splits else splits[0]


# ------------------------------------------------------------------------------------ info


def _cmd_info(args: argparse.Namespace) -> int:
    from crucible_polars import hub

    kwargs = {} if _is_local(args.repo) else _hub_kwargs(args)
    _out(*hub.describe(args.repo, args.name, **kwargs).lines())
    return 0


# ------------------------------------------------------------------------------------ head


def _open_split(args: argparse.Namespace) -> Any:
    """The split to show, streamed (only its first row groups are read)."""
    import crucible_polars as cp

    if _is_local(args.repo):
        loaded = cp.load_dataset(args.repo, args.name, split=args.split, streaming=True)
        if args.split is None:
            loaded = loaded[_pick_split(list(loaded), None)]
        return loaded
    kwargs = _hub_kwargs(args)
    split = args.split
    if split is None:
        from crucible_polars import hub

        split = _pick_split(
            hub.get_dataset_split_names(_repo_id(args.repo), args.name, **kwargs), None
        )
    return cp.load_dataset(args.repo, args.name, split=split, streaming=True, **kwargs)


def _cell(value: Any) -> Any:
    """A row value as a DataFrame cell: decoded images and raw bytes shown by their size."""
    size = getattr(value, "size", None)
    if hasattr(value, "mode") and isinstance(size, tuple):  # a PIL image
        return f"<image {value.mode} {size[0]}x{size[1]}>"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return value


def first_rows(dataset: Any, n: int, streaming: bool) -> Any:
    """The first ``n`` rows of a Dataset (lazily) or of an iterable (then closed) as a frame.

    Examples
    --------
    >>> rows = ({"i": i, "blob": b"xyz"} for i in range(100))
    >>> first_rows(rows, 2, streaming=True).rows()
    [(0, '<3 bytes>'), (1, '<3 bytes>')]
    >>> rows.gi_frame is None  # the generator was closed
    True
    """
    import polars as pl

    if not streaming:
        return dataset.lazy().head(n).collect()
    rows = []
    iterator = iter(dataset)
    try:
        for row in iterator:
            rows.append({k: _cell(v) for k, v in row.items()})
            if len(rows) >= n:
                break
    finally:
        close = getattr(iterator, "close", None)
        if callable(close):
            close()
    return pl.DataFrame(rows, strict=False)


def _cmd_head(args: argparse.Namespace) -> int:
    import polars as pl

    if args.num_rows < 1:
        raise ValueError("-n must be at least 1.")
    frame = first_rows(_open_split(args), args.num_rows, streaming=True)
    frame = frame.with_columns(pl.col(pl.String).str.replace_all("\n", "\u21b5"))
    with pl.Config(
        tbl_rows=args.num_rows,
        tbl_cols=-1,
        fmt_str_lengths=args.width,
        tbl_hide_dataframe_shape=True,
        tbl_width_chars=200,
    ):
        _out(frame)
    return 0


# ------------------------------------------------------------------------------------ download


def _cmd_download(args: argparse.Namespace) -> int:
    import crucible_polars as cp
    from crucible_polars import cache

    if _is_local(args.repo):
        raise ValueError(f"{args.repo!r} is a local path: there is nothing to download.")
    mode = "force_redownload" if args.force else "reuse_dataset_if_exists"
    loaded = cp.load_dataset(
        args.repo, args.name, split=args.split, download_mode=mode, **_hub_kwargs(args)
    )
    splits = [args.split] if args.split else list(loaded)
    _out(f"Downloaded {_repo_id(args.repo)} ({args.name or 'default config'}): {', '.join(splits)}")
    cached = cache.info(cache_dir=args.cache_dir).datasets
    row = cached.filter(cached["repo_id"] == _repo_id(args.repo))
    if row.height:
        size = cache.format_size(row["size_on_disk"][0])
        _out(f"In the cache: {row['files'][0]} file(s), {size} at {row['path'][0]}")
    return 0


# ------------------------------------------------------------------------------------ cache


def _cmd_cache(args: argparse.Namespace) -> int:
    from crucible_polars import cache

    if args.cache_command == "info":
        _out(cache.info(cache_dir=args.cache_dir))
        return 0
    if args.cache_command == "prune":
        if args.max_size is None and args.older_than is None:
            raise ValueError(
                "cache prune needs --max-size and/or --older-than (e.g. --max-size 20GB)."
            )
        _out(
            cache.prune(
                max_size=args.max_size,
                older_than=args.older_than,
                cache_dir=args.cache_dir,
                dry_run=args.dry_run,
            )
        )
        return 0
    if args.cache_command == "verify":
        report = cache.verify(
            args.repo,
            revision=args.revision,
            cache_dir=args.cache_dir,
            remove_corrupt=args.remove_corrupt,
            token=args.token,
        )
        _out(report)
        return 0 if report.ok or args.remove_corrupt else 1
    if args.repo is None and not (args.yes or args.dry_run):
        raise ValueError("cache clear without REPO removes every cached dataset: add --yes.")
    result = cache.clear(
        args.repo, revision=args.revision, cache_dir=args.cache_dir, dry_run=args.dry_run
    )
    if not result.removed and not result.swept and args.repo is not None:
        _out(f"Nothing cached for {args.repo!r}.")
    else:
        _out(result)
    return 0


# ------------------------------------------------------------------------------------ catalog


def _cmd_catalog(args: argparse.Namespace) -> int:
    import polars as pl

    from crucible_polars import catalog

    if args.short_name is not None:
        entry = catalog.get(args.short_name)
        _out(
            f"{entry.short_name}: {entry.repo_id} ({entry.task})",
            textwrap.fill(entry.description, 88),
            f"configs: {', '.join(entry.configs) or '(the default)'}"
            + (f"  [default: {entry.default_config}]" if entry.default_config else ""),
            f"splits: {', '.join(entry.splits)}",
            f"columns: {', '.join(entry.columns)}",
            f"streaming recommended: {'yes' if entry.streaming_recommended else 'no'}",
            textwrap.fill(f"source: {entry.source}", 88),
        )
        return 0
    frame = catalog.list(task=args.task).select(
        "short_name",
        "repo_id",
        "task",
        pl.col("splits").list.join(","),
        pl.col("columns").list.join(","),
    )
    with pl.Config(
        tbl_rows=-1, fmt_str_lengths=50, tbl_hide_dataframe_shape=True, tbl_width_chars=200
    ):
        _out(frame)
    return 0


# ------------------------------------------------------------------------------------ demo


def _cmd_demo(args: argparse.Namespace) -> int:
    from crucible_polars import demo

    if args.hub:
        return demo.run_hub_demo()
    demo.run_demo()
    return 0


# ------------------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``crucible-polars``; returns the exit code.

    Examples
    --------
    >>> main(["catalog", "gsm8k"])  # doctest: +ELLIPSIS
    gsm8k: openai/gsm8k (math)
    ...
    0
    >>> main(["cache", "prune", "--max-size", "lots"])
    1
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, usage errors
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "info": _cmd_info,
        "head": _cmd_head,
        "download": _cmd_download,
        "cache": _cmd_cache,
        "catalog": _cmd_catalog,
        "demo": _cmd_demo,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("crucible-polars: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `crucible-polars catalog | head`
        sys.stderr.close()
        return 0
    except Exception as err:
        if args.debug:
            raise
        token = getattr(args, "token", None)
        print(f"crucible-polars: error: {error_line(err, token)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
