"""``cp.hub``: look around the HuggingFace Hub before loading (built on ``huggingface_hub``).

Every function reads metadata only (the repository listing and its ``README.md``); none
downloads data files. Configs and splits are resolved exactly as ``cp.load_dataset`` resolves
them (README YAML ``configs:``, else the folder layout, else the ``refs/convert/parquet``
conversion), so what is listed here is what loads. ``endpoint`` defaults to ``HF_ENDPOINT``.

Examples
--------
>>> import crucible_polars as cp
>>> cp.hub.get_dataset_config_names  # doctest: +ELLIPSIS
<function get_dataset_config_names at ...>
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from crucible_polars.description import HubDescription, SplitSummary, summarize
from crucible_polars.resolve.card import read_card_metadata
from crucible_polars.resolve.configs import (
    DEFAULT_CONFIG,
    ConfigSpec,
    choose_config,
    configs_from_metadata,
)

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub.hf_api import DatasetInfo

    from crucible_polars.sources.hub import HubSource

__all__ = [
    "HubDescription",
    "SplitSummary",
    "dataset_info",
    "describe",
    "get_dataset_config_names",
    "get_dataset_split_names",
    "list_datasets",
    "list_files",
]

_LIST_COLUMNS = pl.Schema(
    [
        ("id", pl.String()),
        ("author", pl.String()),
        ("downloads", pl.Int64()),
        ("likes", pl.Int64()),
        ("last_modified", pl.Datetime("us", "UTC")),
        ("gated", pl.String()),
        ("private", pl.Boolean()),
        ("tags", pl.List(pl.String())),
    ]
)


def _source(
    repo_id: str,
    revision: str | None,
    token: str | bool | None,
    cache_dir: str | os.PathLike[str] | None,
    endpoint: str | None,
) -> HubSource:
    from crucible_polars.errors import DatasetNotFoundError
    from crucible_polars.resolve.load_plan import resolve_hub_source as hub_source_for

    source = hub_source_for(
        repo_id, revision=revision, token=token, cache_dir=cache_dir, endpoint=endpoint
    )
    if source is None:
        raise DatasetNotFoundError(repo_id)
    return source


def list_datasets(
    search: str | None = None,
    author: str | None = None,
    limit: int | None = None,
    *,
    token: str | bool | None = None,
    endpoint: str | None = None,
) -> pl.DataFrame:
    """Datasets on the Hub, one row each: id, author, downloads, likes, last_modified, ...

    Parameters
    ----------
    search
        Keep ids containing this text.
    author
        Keep datasets of this user or organization.
    limit
        At most this many rows.
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Returns
    -------
    polars.DataFrame
        Columns ``id``, ``author``, ``downloads``, ``likes``, ``last_modified``, ``gated``
        (``"False"``, ``"auto"`` or ``"manual"``), ``private`` and ``tags``.

    Examples
    --------
    >>> from crucible_polars.testing import HubServer
    >>> with HubServer(reject_unknown_tokens=False) as server:
    ...     for name in ("gsm8k", "mmlu"):
    ...         _ = server.add_repo(f"demo/{name}", {"README.md": b"# demo"})
    ...     found = list_datasets(search="gsm", endpoint=server.url)
    >>> found["id"].to_list()
    ['demo/gsm8k']
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    rows = [
        {
            "id": d.id,
            "author": d.author,
            "downloads": d.downloads,
            "likes": d.likes,
            "last_modified": d.last_modified,
            "gated": str(d.gated) if d.gated is not None else None,
            "private": d.private,
            "tags": d.tags,
        }
        for d in api.list_datasets(search=search, author=author, limit=limit)
    ]
    return pl.DataFrame(rows, schema=_LIST_COLUMNS, orient="row")


def list_files(
    repo_id: str,
    revision: str | None = None,
    *,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
) -> list[str]:
    """Every file of a dataset repository at ``revision``, sorted.

    The listing is kept in the ``huggingface_hub`` cache, so it also works offline
    (``HF_HUB_OFFLINE=1``) for a revision listed or loaded before.

    Parameters
    ----------
    repo_id
        ``"owner/name"`` of the dataset repository.
    revision
        Branch, tag or commit (default ``main``).
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    cache_dir
        The ``huggingface_hub`` cache (the listing and README are kept there).
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Raises
    ------
    DatasetNotFoundError
        No such dataset or revision (or a private one without the right token).

    Examples
    --------
    >>> import tempfile
    >>> from crucible_polars.testing import HubServer
    >>> with HubServer(reject_unknown_tokens=False) as server:
    ...     files = {"README.md": b"# tiny", "data/train.csv": b"a\\n1\\n"}
    ...     _ = server.add_repo("demo/tiny", files)
    ...     files = list_files("demo/tiny", endpoint=server.url, cache_dir=tempfile.mkdtemp())
    >>> files
    ['README.md', 'data/train.csv']
    """
    return list(_source(repo_id, revision, token, cache_dir, endpoint).list_files())


def get_dataset_config_names(
    repo_id: str,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
) -> list[str]:
    """The configs of a dataset (as ``datasets.get_dataset_config_names``), in README order.

    From the README's YAML ``configs:``; ``["default"]`` for a folder layout; the config
    folders of the ``refs/convert/parquet`` conversion for a loading-script dataset.

    Parameters
    ----------
    repo_id
        ``"owner/name"`` of the dataset repository.
    revision
        Branch, tag or commit (default ``main``).
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    cache_dir
        The ``huggingface_hub`` cache (the listing and README are kept there).
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Examples
    --------
    >>> import tempfile
    >>> from crucible_polars.testing import HubServer
    >>> card = (b"---\\nconfigs:\\n- config_name: main\\n  data_files: main/*.csv\\n"
    ...         b"- config_name: socratic\\n  data_files: socratic/*.csv\\n---\\n")
    >>> with HubServer(reject_unknown_tokens=False) as server:
    ...     _ = server.add_repo("demo/gsm", {"README.md": card, "main/a.csv": b"x\\n1\\n",
    ...                                     "socratic/a.csv": b"x\\n2\\n"})
    ...     names = get_dataset_config_names(
    ...         "demo/gsm", endpoint=server.url, cache_dir=tempfile.mkdtemp())
    >>> names
    ['main', 'socratic']
    """
    from crucible_polars.resolve.configs import DEFAULT_CONFIG

    _, configs = _source(repo_id, revision, token, cache_dir, endpoint).resolve_configs()
    return [c.name for c in configs] if configs else [DEFAULT_CONFIG]


def get_dataset_split_names(
    repo_id: str,
    name: str | None = None,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
) -> list[str]:
    """The splits of one config (as ``datasets.get_dataset_split_names``), no data read.

    Parameters
    ----------
    repo_id
        ``"owner/name"`` of the dataset repository.
    name
        The config; default the default one.
    revision
        Branch, tag or commit (default ``main``).
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    cache_dir
        The ``huggingface_hub`` cache (the listing and README are kept there).
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Raises
    ------
    ConfigNotFoundError
        An unknown ``name``, or none given for a dataset without a default config (the
        message lists the configs).

    Examples
    --------
    >>> import tempfile
    >>> from crucible_polars.testing import HubServer
    >>> files = {"train.jsonl": b'{"a": 1}\\n', "dev.jsonl": b'{"a": 2}\\n'}
    >>> with HubServer(reject_unknown_tokens=False) as server:
    ...     _ = server.add_repo("demo/splits", files)
    ...     splits = get_dataset_split_names(
    ...         "demo/splits", endpoint=server.url, cache_dir=tempfile.mkdtemp())
    >>> splits
    ['train', 'validation']
    """
    from crucible_polars.resolve.configs import DEFAULT_CONFIG, ConfigSpec, choose_config
    from crucible_polars.resolve.load_plan import plan_from_listing

    source, configs = _source(repo_id, revision, token, cache_dir, endpoint).resolve_configs()
    config = choose_config(configs or [ConfigSpec(DEFAULT_CONFIG)], name, repo_id)
    _, _, relative = plan_from_listing(source, config, None, None, {})
    return list(relative)


def dataset_info(
    repo_id: str,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
) -> DatasetInfo:
    """The Hub's record of a dataset (``huggingface_hub.DatasetInfo``), with file sizes.

    ``.sha``, ``.card_data``, ``.gated``, ``.private``, ``.downloads``, ``.tags``, and
    ``.siblings`` (each file's ``rfilename``, ``size`` and LFS ``sha256``).

    Parameters
    ----------
    repo_id
        ``"owner/name"`` of the dataset repository.
    revision
        Branch, tag or commit (default ``main``).
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Raises
    ------
    DatasetNotFoundError
        No such dataset or revision (or a private one without the right token).

    Examples
    --------
    >>> from crucible_polars.testing import HubServer
    >>> with HubServer(reject_unknown_tokens=False) as server:
    ...     sha = server.add_repo("demo/info", {"README.md": b"---\\nlicense: mit\\n---\\n"})
    ...     info = dataset_info("demo/info", endpoint=server.url)
    >>> info.id, info.sha == sha, info.card_data.license
    ('demo/info', True, 'mit')
    """
    source = _source(repo_id, revision, token, None, endpoint)
    with source.errors():
        return source.api.dataset_info(source.repo, revision=revision, files_metadata=True)


# ------------------------------------------------------------------------------------ describe


def describe(
    repo: str | os.PathLike[str],
    name: str | None = None,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
) -> HubDescription:
    """Describe a dataset without loading it: its configs, and one config's splits and features.

    Reads metadata only: the listing, the README's ``configs:`` and ``dataset_info:``, file
    sizes, and, when the card does not give them, the footers of parquet files (a few range
    requests each) for row counts and the schema. A Hub dataset, a catalog short name or a
    local folder.

    Parameters
    ----------
    repo
        ``"owner/name"``, a catalog short name (``"gsm8k"``) or a local folder.
    name
        The config; default the default one (when there is none, the description lists the
        configs only).
    revision
        Branch, tag or commit (default ``main``).
    token
        A token, ``False`` for none; ``None`` uses ``HF_TOKEN`` or the stored login.
    cache_dir
        The ``huggingface_hub`` cache (the listing and README are kept there).
    endpoint
        The Hub URL (default ``HF_ENDPOINT``).

    Raises
    ------
    DatasetNotFoundError
        No such dataset (or not shaped like a Hub id, and not a folder).
    ConfigNotFoundError
        An unknown ``name``.

    Examples
    --------
    >>> from crucible_polars.demo import sample_path
    >>> print(describe(sample_path()))  # doctest: +ELLIPSIS
    /.../gsm8k_sample  (local)
    configs (1): main
    config main: parquet files, 2 split(s)
      SPLIT  ROWS  FILES  SIZE
      -----  ----  -----  ...
      train  200   1      ...
      test   50    1      ...
    features (from the parquet files' schema):
      question: Value(...)
      answer: Value(...)
    >>> describe("openai/gsm8k", "main").splits[0].num_rows  # doctest: +SKIP
    7473
    """
    if os.path.isdir(repo):
        return _describe_local(Path(repo), name)
    return _describe_hub(str(repo), name, revision, token, cache_dir, endpoint)


def _describe_local(root: Path, name: str | None) -> HubDescription:
    from crucible_polars.resolve.load_plan import plan_from_listing
    from crucible_polars.sources.local import LocalSource

    source = LocalSource(root)
    meta = read_card_metadata(source.read_text("README.md"))
    specs = configs_from_metadata(meta) or [ConfigSpec(DEFAULT_CONFIG)]
    config = _choose(specs, name, None)
    head = HubDescription.configs_only(str(source.root), None, None, [c.name for c in specs])
    if config is None:
        return head
    fmt, _, relative = plan_from_listing(source, config, None, None, {})
    files = _with_base(config, relative)
    sizes = {p: (source.root / p).stat().st_size for ps in files.values() for p in ps}
    return summarize(
        head, config.name, fmt, files, sizes, meta, lambda p: open(source.root / p, "rb")
    )


def _describe_hub(
    repo: str,
    name: str | None,
    revision: str | None,
    token: str | bool | None,
    cache_dir: str | os.PathLike[str] | None,
    endpoint: str | None,
) -> HubDescription:
    from huggingface_hub import HfFileSystem

    from crucible_polars.resolve.load_plan import plan_from_listing

    source = _source(repo, revision, token, cache_dir, endpoint)
    with source.errors():
        data_source, resolved = source.resolve_configs()
        specs = resolved or [ConfigSpec(DEFAULT_CONFIG)]
        head = HubDescription.configs_only(
            source.repo,
            revision,
            source.sha,
            [c.name for c in specs],
            parquet_branch=data_source is not source,
        )
        config = _choose(specs, name, source.repo)
        if config is None:
            return head
        fmt, _, relative = plan_from_listing(data_source, config, None, None, {})
        files = _with_base(config, relative)
        infos = data_source.api.get_paths_info(
            data_source.repo,
            sorted({p for ps in files.values() for p in ps}),
            revision=data_source.sha,
            repo_type="dataset",
        )
        sizes = {i.path: getattr(i, "size", 0) or 0 for i in infos}
        meta = read_card_metadata(data_source.read_text("README.md"))
        fs = HfFileSystem(endpoint=data_source.endpoint, token=token)
        root = f"datasets/{data_source.repo}@{data_source.sha}"
        return summarize(
            head,
            config.name,
            fmt,
            files,
            sizes,
            meta,
            lambda p: fs.open(f"{root}/{p}", block_size=1 << 16),
        )


def _choose(specs: list[ConfigSpec], name: str | None, repo_id: str | None) -> ConfigSpec | None:
    """The named or default config; ``None`` when none was named and there is no default."""
    from crucible_polars.errors import ConfigNotFoundError

    try:
        return choose_config(specs, name, repo_id)
    except ConfigNotFoundError:
        if name is not None:
            raise
        return None


def _with_base(config: ConfigSpec, relative: dict[str, list[str]]) -> dict[str, list[str]]:
    base = (config.data_dir or "").strip("/")
    return {s: [f"{base}/{p}" if base else p for p in ps] for s, ps in relative.items()}
