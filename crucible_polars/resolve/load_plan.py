"""From a load's arguments to a :class:`LoadPlan`: the reader and the files of every split.

Nothing here reads data. A local folder, an fsspec URL and a Hub repository are each a
:class:`~crucible_polars.sources.Source`; configs come from the README's YAML, split files from
its ``data_files`` patterns or from the file names (``resolve/patterns.py``), matched against one
listing of the source. Catalog short names (``"gsm8k"``) are resolved here, before the Hub.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from crucible_polars.errors import DataFilesNotFoundError, SplitNotFoundError
from crucible_polars.features import Features
from crucible_polars.info import DatasetInfo
from crucible_polars.readers import (
    FORMAT_EXTENSIONS,
    METADATA_FILENAMES,
    SUPPORTED_FORMATS,
    infer_format,
)
from crucible_polars.readers.archive_files import archive_member_names
from crucible_polars.readers.base import ScanOptions
from crucible_polars.readers.extensions import FOLDER_FORMATS
from crucible_polars.readers.options import check_reader_options
from crucible_polars.resolve.card import dataset_info_features, read_card_metadata
from crucible_polars.resolve.catalog_table import resolve_short_name
from crucible_polars.resolve.configs import (
    DEFAULT_CONFIG,
    ConfigSpec,
    choose_config,
    configs_from_metadata,
)
from crucible_polars.resolve.hf_urls import HfUrl, is_hf_url, resolve_hf_pattern
from crucible_polars.resolve.patterns import (
    DataFilesSpec,
    has_extension,
    infer_split_patterns,
    normalize_data_files,
    resolve_patterns,
)
from crucible_polars.sources import Source
from crucible_polars.sources.fetch import fetch
from crucible_polars.sources.hub import HubSource, hub_source_for
from crucible_polars.sources.local import LocalSource, resolve_local_pattern
from crucible_polars.sources.remote import FsspecSource, is_remote_file, resolve_remote_pattern


@dataclass
class LoadPlan:
    """What a load resolved to: the reader, and the scan-ready files of every split."""

    format: str
    options: ScanOptions
    split_files: dict[str, list[str]]
    config_name: str = DEFAULT_CONFIG
    features: Features | None = None
    info: DatasetInfo = field(default_factory=DatasetInfo)
    source: Source | None = None


def resolve_load(
    path: str,
    name: str | None,
    *,
    data_files: DataFilesSpec | None,
    data_dir: str | None,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    streaming: bool = False,
    splits: Sequence[str] | None = None,
) -> LoadPlan:
    """Resolve where a load's data files are and how to read them (no data is read).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp(); _ = open(f"{folder}/dev.csv", "w").write("a\\n1\\n")
    >>> plan = resolve_load(folder, None, data_files=None, data_dir=None)
    >>> plan.format, list(plan.split_files)
    ('csv', ['validation'])
    """
    options = dict(options or {})
    hub_options: dict[str, Any] = {
        "token": token,
        "cache_dir": cache_dir,
        "force_download": download_mode == "force_redownload",
        "streaming": streaming,
    }
    if path in SUPPORTED_FORMATS:
        return plan_for_packaged(
            path, data_files, data_dir, options, storage_options, hub_options=hub_options
        )
    if is_hf_url(path):
        parsed = HfUrl.parse(path)
        if parsed.path:  # files of a repo, as data_files
            files = resolve_hf_pattern(path, **hub_options)
            fmt, inferred = infer_format(files)
            options = {**inferred, **options}
            check_reader_options(fmt, options, streaming=streaming)
            return LoadPlan(format=fmt, options=options, split_files={"train": files})
        path, revision = parsed.repo_id, parsed.revision or revision
    local = Path(path).expanduser()
    if local.is_dir():
        return plan_for_source(
            LocalSource(local), name, data_files, data_dir, options, streaming=streaming
        )
    if local.is_file():
        fmt, inferred = infer_format([str(local)])
        return plan_for_packaged(
            fmt, str(local), None, {**inferred, **options}, storage_options, streaming=streaming
        )
    if "://" in path:
        if is_remote_file(path, storage_options):
            fmt, inferred = infer_format([path])
            return plan_for_packaged(
                fmt, path, None, {**inferred, **options}, storage_options, streaming=streaming
            )
        source: Source = FsspecSource(path, storage_options, streaming=streaming)
        return plan_for_source(source, name, data_files, data_dir, options, streaming=streaming)
    hub = resolve_hub_source(
        path,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        force_download=download_mode == "force_redownload",
        streaming=streaming,
    )
    if hub is None:
        raise DataFilesNotFoundError(
            path,
            "It is not a local file or folder, a format name "
            f"({', '.join(SUPPORTED_FORMATS)}), a URL, or a dataset on the Hub.",
        )
    source, configs = hub.resolve_configs(data_files, data_dir)
    return plan_for_source(
        source,
        name,
        data_files,
        data_dir,
        options,
        configs=configs,
        splits=splits,
        streaming=streaming,
    )


def resolve_hub_source(path: str, **options: Any) -> HubSource | None:
    """The Hub source for a repo id or a catalog short name (``"gsm8k"`` is
    ``"openai/gsm8k"``), or ``None`` when ``path`` is neither.

    Parameters
    ----------
    path
        A repo id (``"owner/name"``) or a short name from :mod:`crucible_polars.catalog`.
    **options
        Passed to :func:`~crucible_polars.sources.hub.hub_source_for` (``revision``,
        ``token``, ``cache_dir``, ...).

    Examples
    --------
    >>> resolve_hub_source("gsm8k").repo_id
    'openai/gsm8k'
    """
    return hub_source_for(resolve_short_name(path) or path, **options)


def plan_for_packaged(
    fmt: str,
    data_files: DataFilesSpec | None,
    data_dir: str | None,
    options: ScanOptions,
    storage_options: dict[str, Any] | None,
    *,
    streaming: bool = False,
    hub_options: dict[str, Any] | None = None,
) -> LoadPlan:
    """Plan a load of a packaged format (``"csv"``, ...) over explicit ``data_files``;
    ``hub_options`` (``token``, ``cache_dir``, ``force_download``, ``streaming``) are for
    ``hf://`` files."""
    hub_options = hub_options or {"streaming": streaming}
    streaming = bool(hub_options.get("streaming"))
    check_reader_options(fmt, options, streaming=streaming)
    if data_files is None and data_dir is None:
        raise ValueError(
            f"load_dataset({fmt!r}) needs data_files=... (a path, glob, list or "
            "{split: path}) or data_dir=..."
        )
    if data_files is None:
        assert data_dir is not None
        return plan_for_source(
            LocalSource(data_dir), None, None, None, options, fmt=fmt, streaming=streaming
        )
    split_files: dict[str, list[str]] = {}
    for split, patterns in normalize_data_files(data_files).items():
        files: list[str] = []
        for pattern in patterns:
            if is_hf_url(pattern):
                files.extend(resolve_hf_pattern(pattern, **hub_options))
            elif "://" in pattern:
                files.extend(resolve_remote_pattern(pattern, storage_options))
            else:
                files.extend(resolve_local_pattern(pattern, data_dir))
        split_files[split] = list(dict.fromkeys(files))
    if not streaming:  # what Polars cannot scan is fetched once (fsspec, storage_options)
        split_files = {s: [fetch(f, storage_options) for f in fs] for s, fs in split_files.items()}
    remote = any("://" in f for fs in split_files.values() for f in fs)
    if storage_options and (streaming or remote):
        options = {**options, "storage_options": storage_options}
    return LoadPlan(format=fmt, options=options, split_files=split_files)


def plan_from_listing(
    source: Source,
    config: ConfigSpec,
    data_files: DataFilesSpec | None,
    data_dir: str | None,
    options: ScanOptions,
    *,
    fmt: str | None = None,
) -> tuple[str, ScanOptions, dict[str, list[str]]]:
    """Resolve a config's split patterns against a source listing (shared with the Hub).

    Returns the format, reader options and the *relative* files of every split.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp(); _ = open(f"{folder}/train.jsonl", "w").write('{"a": 1}')
    >>> plan_from_listing(LocalSource(folder), ConfigSpec("default"), None, None, {})
    ('json', {}, {'train': ['train.jsonl']})
    """
    listing = source.list_files()
    # data_files= given to the load is relative to the root (or data_dir=), never to the
    # config's data_dir, as in ``datasets``
    base = (data_dir or (config.data_dir if data_files is None else None) or "").strip("/")
    if base:
        prefix = base + "/"
        listing_in_base = [f[len(prefix) :] for f in listing if f.startswith(prefix)]
        if not listing_in_base:
            raise DataFilesNotFoundError(
                f"{source.description}/{base}", "The data_dir is empty or missing."
            )
    else:
        listing_in_base = listing
    explicit = data_files is not None or config.data_files is not None
    if data_files is not None:
        patterns = normalize_data_files(data_files)
    elif config.data_files is not None:
        patterns = config.data_files
    else:
        patterns = infer_split_patterns(listing_in_base)
    split_files: dict[str, list[str]] = {}
    for split, split_patterns in patterns.items():
        matched = resolve_patterns(split_patterns, listing_in_base)
        if not matched:
            raise DataFilesNotFoundError(
                ", ".join(split_patterns) if explicit else f"{source.description} ({split})",
                f"No files in {source.description!r} match the {split!r} split.",
            )
        split_files[split] = matched
    all_files = [f for files in split_files.values() for f in files]
    options = {**config.options, **options}
    if fmt is None:
        fmt, inferred = infer_format(
            all_files, lambda f: archive_member_names(source.locate([f])[0])
        )
        options = {**inferred, **options}
    if not explicit or fmt in FOLDER_FORMATS:
        extensions = FORMAT_EXTENSIONS[fmt] + [".zip", ".tar", ".tgz"]
        keep = METADATA_FILENAMES if fmt in FOLDER_FORMATS else []
        split_files = {
            s: [f for f in fs if has_extension(f, extensions) or PurePosixPath(f).name in keep]
            for s, fs in split_files.items()
        }
        split_files = {s: fs for s, fs in split_files.items() if fs}
    if base:
        split_files = {s: [f"{base}/{f}" for f in fs] for s, fs in split_files.items()}
    return fmt, options, split_files


def plan_for_source(
    source: Source,
    name: str | None,
    data_files: DataFilesSpec | None,
    data_dir: str | None,
    options: ScanOptions,
    *,
    fmt: str | None = None,
    configs: list[ConfigSpec] | None = None,
    splits: Sequence[str] | None = None,
    streaming: bool = False,
) -> LoadPlan:
    """Plan a load from a source; ``configs`` overrides the README's, ``splits`` limits
    which splits' files are located (fetched, for the Hub); reader options are checked
    (:func:`~crucible_polars.readers.options.check_reader_options`) before any download."""
    metadata = read_card_metadata(source.read_text("README.md"))
    card_features = dataset_info_features(metadata).get(DEFAULT_CONFIG)
    configs = (
        configs
        or configs_from_metadata(metadata)
        or [ConfigSpec(DEFAULT_CONFIG, features=card_features)]
    )
    config = choose_config(configs, name, source.repo_id)
    fmt, options, relative = plan_from_listing(
        source, config, data_files, data_dir, options, fmt=fmt
    )
    check_reader_options(fmt, options, streaming=streaming)
    for split in splits or []:
        if split not in relative:
            raise SplitNotFoundError(split, list(relative))
    if splits is not None:
        relative = {s: fs for s, fs in relative.items() if s in splits}
    every = list(dict.fromkeys(f for fs in relative.values() for f in fs))
    located = dict(zip(every, source.locate(every), strict=True))  # one batch: one progress bar
    if source.storage_options and any("://" in f for f in located.values()):
        options = {**options, "storage_options": source.storage_options}
    return LoadPlan(
        format=fmt,
        options=options,
        split_files={s: [located[f] for f in fs] for s, fs in relative.items()},
        config_name=config.name,
        features=_features_from_card(config.features),
        info=DatasetInfo(
            description=str(metadata.get("description", "") or ""),
            license=_card_license(metadata.get("license")),
            dataset_name=Path(source.description).name,
            config_name=config.name,
        ),
        source=source,
    )


def _card_license(value: Any) -> str:
    """A card's ``license:`` as text (it may be a list of licence ids)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value or "")


def _features_from_card(yaml_features: Any) -> Features | None:
    """Features from a README's ``dataset_info.features`` YAML list, if readable."""
    if not yaml_features:
        return None
    try:
        return Features.from_yaml(yaml_features)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
