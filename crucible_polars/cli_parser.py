"""The ``crucible-polars`` argument parser: commands, options and their help.

Examples
--------
>>> build_parser().parse_args(["info", "openai/gsm8k"]).command
'info'
"""

from __future__ import annotations

import argparse

_EXAMPLES = """\
examples:
  crucible-polars info openai/gsm8k --name main
  crucible-polars head gsm8k -n 5 --split test
  crucible-polars download cais/mmlu --name abstract_algebra
  crucible-polars cache info
  crucible-polars cache prune --max-size 20GB --older-than 30d
  crucible-polars cache verify openai/gsm8k --remove-corrupt
  crucible-polars catalog --task math
  crucible-polars demo --hub

REPO is a Hub dataset id ("owner/name"), a catalog short name ("gsm8k") or a local folder.
The Hub is HF_ENDPOINT (default https://huggingface.co); HF_HUB_OFFLINE=1 reads the cache only.
"""


def _repo_arguments(parser: argparse.ArgumentParser, *, split_help: str | None = None) -> None:
    parser.add_argument("repo", metavar="REPO", help="dataset id, catalog short name or folder")
    parser.add_argument(
        "--name", "-c", metavar="CONFIG", help="the config (default: the default one)"
    )
    if split_help is not None:
        parser.add_argument("--split", "-s", metavar="SPLIT", help=split_help)
    parser.add_argument(
        "--revision", "-r", metavar="REV", help="branch, tag or commit (default main)"
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="Hub token (default: HF_TOKEN or `hf auth login`; never printed)",
    )
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="huggingface_hub cache folder (default HF_HUB_CACHE)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``crucible-polars``.

    Examples
    --------
    >>> build_parser().parse_args(["demo"]).command
    'demo'
    >>> build_parser().parse_args(["cache", "prune", "--max-size", "10GB"]).max_size
    '10GB'
    """
    from crucible_polars import __version__

    parser = argparse.ArgumentParser(
        prog="crucible-polars",
        description="Load, query and batch datasets as lazy Polars frames.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser(
        "info",
        help="configs, splits, features and sizes of a dataset (no data downloaded)",
        description="Show a dataset's configs, and for one config its splits (rows, files, "
        "bytes) and features, reading only metadata: the listing, the README and parquet footers.",
    )
    _repo_arguments(info)

    head = sub.add_parser(
        "head",
        help="print the first rows of a split",
        description="Print the first rows of one split, streamed: only the first row groups "
        "(or lines) are read.",
    )
    _repo_arguments(head, split_help="the split (default: train, else the first)")
    head.add_argument("-n", "--num-rows", type=int, default=5, metavar="N", help="rows (default 5)")
    head.add_argument(
        "--width",
        type=int,
        default=60,
        metavar="CHARS",
        help="max characters per cell (default 60)",
    )

    download = sub.add_parser(
        "download",
        help="download a dataset (or one config/split) into the Hub cache",
        description="Download the files of a config (all splits, or --split) into the "
        "huggingface_hub cache, so later loads (also offline) read them in place.",
    )
    _repo_arguments(download, split_help="only this split (default: every split of the config)")
    download.add_argument("--force", action="store_true", help="download again even if cached")

    cache = sub.add_parser(
        "cache",
        help="inspect, prune, verify or clear the Hub cache",
        description="The huggingface_hub cache, for dataset repositories (models are left alone).",
    )
    cache_sub = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    c_info = cache_sub.add_parser("info", help="what is cached: datasets, files, sizes, last use")
    c_prune = cache_sub.add_parser(
        "prune",
        help="remove least recently used revisions",
        description="Remove cached dataset revisions, least recently used first, until the "
        "cache fits --max-size, and those unused for --older-than.",
    )
    c_prune.add_argument("--max-size", metavar="SIZE", help="e.g. 20GB, 500MB, 2GiB")
    c_prune.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h, 2w")
    c_prune.add_argument("--dry-run", action="store_true", help="only show what would go")
    c_verify = cache_sub.add_parser(
        "verify",
        help="check cached files against the Hub's checksums",
        description="Hash every cached file (sha256 for LFS files, the git blob id otherwise) "
        "and compare with the Hub's metadata (offline: with the ETags recorded at download).",
    )
    c_verify.add_argument("repo", nargs="?", metavar="REPO", help="only this dataset")
    c_verify.add_argument("--revision", "-r", metavar="REV", help="only this commit or ref")
    c_verify.add_argument(
        "--remove-corrupt",
        action="store_true",
        help="delete corrupt files (reloading downloads them again)",
    )
    c_verify.add_argument(
        "--token", metavar="TOKEN", help="Hub token for private datasets (never printed)"
    )
    c_clear = cache_sub.add_parser("clear", help="remove one cached dataset, or all of them")
    c_clear.add_argument(
        "repo", nargs="?", metavar="REPO", help="the dataset (omit for all, with --yes)"
    )
    c_clear.add_argument("--revision", "-r", metavar="REV", help="only this commit or ref of REPO")
    c_clear.add_argument("--yes", "-y", action="store_true", help="confirm clearing every dataset")
    c_clear.add_argument("--dry-run", action="store_true", help="only show what would go")
    for action in (c_info, c_prune, c_verify, c_clear):
        action.add_argument(
            "--cache-dir", metavar="DIR", help="cache folder (default HF_HUB_CACHE)"
        )

    catalog = sub.add_parser(
        "catalog",
        help="the datasets the tinker-cookbook recipes use, by short name",
        description="List the catalog, or show one entry (its configs, splits and columns).",
    )
    catalog.add_argument("short_name", nargs="?", metavar="NAME", help="show this entry")
    catalog.add_argument("--task", help="only this task (math, chat, preference, code, ...)")

    demo = sub.add_parser(
        "demo",
        help="run the demo on the packaged GSM8K sample (offline)",
        description="A lazy query with its pushed-down plan and a numpy batch, on the GSM8K "
        "sample shipped in the package. --hub serves the sample from a local test Hub as "
        "openai/gsm8k and loads it through the Hub code path.",
    )
    demo.add_argument("--hub", action="store_true", help="load through a local test Hub")
    return parser
