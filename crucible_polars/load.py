"""load_dataset and load_from_disk: source → resolve → format → features → Dataset.

Nothing here reads data: files are listed, configs and splits resolved, and each split becomes
a lazy scan. Projection (``columns=``), filters and ``features=`` casts join the plan.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from crucible_polars.dataset import DICT_FILE, INFO_FILE, Dataset
from crucible_polars.dataset_dict import DatasetDict
from crucible_polars.errors import DataFilesNotFoundError, SplitNotFoundError
from crucible_polars.features import Features
from crucible_polars.formats import (
    FORMAT_EXTENSIONS,
    METADATA_FILENAMES,
    SUPPORTED_FORMATS,
    infer_format,
    scan_files,
)
from crucible_polars.formats.archive_files import archive_member_names
from crucible_polars.formats.base import ScanOptions, run_explained
from crucible_polars.info import DatasetInfo
from crucible_polars.resolve.card import dataset_info_features, read_card_metadata
from crucible_polars.resolve.configs import (
    DEFAULT_CONFIG,
    ConfigSpec,
    choose_config,
    configs_from_metadata,
)
from crucible_polars.resolve.patterns import (
    DataFilesSpec,
    has_extension,
    infer_split_patterns,
    normalize_data_files,
    resolve_patterns,
)
from crucible_polars.resolve.splits import parse_split
from crucible_polars.sources import Source
from crucible_polars.sources.local import LocalSource, resolve_local_pattern

DOWNLOAD_MODES = ("reuse_dataset_if_exists", "reuse_cache_if_exists", "force_redownload")


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


def load_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    split: str | None = None,
    data_files: DataFilesSpec | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    streaming: bool = False,
    columns: Sequence[str] | None = None,
    filters: pl.Expr | None = None,
    features: Features | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download_mode: str = "reuse_dataset_if_exists",
    storage_options: dict[str, Any] | None = None,
    **config_kwargs: Any,
) -> Any:
    """Load a dataset as lazy Polars-backed splits.

    Parameters
    ----------
    path
        A format name (``"parquet"``, ``"json"``, ``"csv"``, ``"text"``, ``"imagefolder"``)
        with ``data_files``; a local folder or file; an fsspec URL; or a Hub dataset id.
    name
        The config, from the README's YAML ``configs:`` block.
    split
        ``None`` for a :class:`DatasetDict` of every split, else e.g. ``"train"``,
        ``"train[:100]"``, ``"train[10%:20%]"``, ``"train+test"``.
    data_files
        A path or glob, a list of them, or ``{split: path-or-list}``.
    data_dir
        A sub-folder of the source to look in.
    columns
        Columns to keep; pushed into the scan.
    filters
        A Polars expression; pushed into the scan.
    features
        Cast and validate to these Features.
    **config_kwargs
        Reader options, e.g. ``sep="\\t"`` for CSV or ``field="data"`` for JSON documents.

    Returns
    -------
    Dataset | DatasetDict | IterableDataset | IterableDatasetDict

    Raises
    ------
    DataFilesNotFoundError
        A path or glob that matches nothing.
    UnsupportedFormatError
        A format no reader handles (the message lists the supported ones).
    ConfigNotFoundError, SplitNotFoundError
        Unknown ``name`` or ``split`` (the message lists the valid ones).

    Examples
    --------
    >>> import tempfile, crucible_polars as cp
    >>> folder = tempfile.mkdtemp()
    >>> pl.DataFrame({"x": [1, 2, 3]}).write_parquet(f"{folder}/train.parquet")
    >>> pl.DataFrame({"x": [4]}).write_parquet(f"{folder}/test.parquet")
    >>> cp.load_dataset(folder).num_rows
    {'train': 3, 'test': 1}
    >>> cp.load_dataset(folder, split="train", filters=pl.col("x") > 1)["x"]
    [2, 3]
    """
    if download_mode not in DOWNLOAD_MODES:
        raise ValueError(f"download_mode must be one of {DOWNLOAD_MODES}, got {download_mode!r}.")
    terms = parse_split(split) if split is not None else None
    plan = resolve_load(
        str(path), name, data_files=data_files, data_dir=data_dir, revision=revision,
        token=token, cache_dir=cache_dir, download_mode=download_mode,
        storage_options=storage_options, options=config_kwargs, streaming=streaming,
        splits=None if terms is None else list(dict.fromkeys(t.split for t in terms)),
    )  # fmt: skip
    wanted = (
        list(plan.split_files) if terms is None else list(dict.fromkeys(t.split for t in terms))
    )
    for name_ in wanted:
        if name_ not in plan.split_files:
            raise SplitNotFoundError(name_, list(plan.split_files))
    if streaming:
        from crucible_polars.streaming import iterable_from_plan

        return iterable_from_plan(
            plan, wanted, terms, columns=columns, filters=filters, features=features
        )
    datasets = {s: _build_split(plan, s, columns, filters, features) for s in wanted}
    if terms is None:
        return DatasetDict(datasets)
    from crucible_polars.ops.combine import apply_split_terms

    return apply_split_terms(datasets, terms, split or "")


def _build_split(
    plan: LoadPlan,
    split: str,
    columns: Sequence[str] | None,
    filters: pl.Expr | None,
    features: Features | None,
) -> Dataset:
    options = plan.options
    if plan.format == "imagefolder":  # labels and metadata are decided over every split
        options = {**options, "split_files": plan.split_files, "features": features}
    scan = scan_files(plan.format, plan.split_files[split], options)
    schema = run_explained(scan.lf.collect_schema, [scan.diagnose])
    stored = scan.features if scan.features is not None else plan.features
    if plan.features is not None and plan.features.to_polars() == schema:
        stored = plan.features  # the README's dataset_info wins when it fits, as in `datasets`
    if stored is not None and list(stored) != schema.names():
        stored = None
    ds = Dataset(
        scan.lf,
        stored if stored is not None else Features.from_polars(schema),
        info=plan.info.copy(**scan.info) if scan.info else plan.info,
        split=split,
        diagnose=(scan.diagnose,),
    )
    if features is not None:
        ds = ds.cast(features)
    ds = _resolve_relative_images(ds, plan.split_files[split])
    if filters is not None:
        ds = ds.filter(filters)
    if columns is not None:
        ds = ds.select_columns(list(columns))
    return ds


def _resolve_relative_images(ds: Dataset, files: Sequence[str]) -> Dataset:
    """Image paths relative to the data files' folder, made absolute (lazily)."""
    from crucible_polars.media.image import data_files_folder, resolve_image_paths

    folder = data_files_folder(files)
    columns = [c for c in ds.features.image_columns() if c in ds.column_names]
    if folder is None or not columns:
        return ds
    return ds.with_columns(*(resolve_image_paths(c, folder) for c in columns))


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
    if path in SUPPORTED_FORMATS:
        return _plan_for_packaged(path, data_files, data_dir, options, storage_options)
    local = Path(path).expanduser()
    if local.is_dir():
        return _plan_for_source(LocalSource(local), name, data_files, data_dir, options)
    if local.is_file():
        fmt, inferred = infer_format([str(local)])
        return _plan_for_packaged(fmt, str(local), None, {**inferred, **options}, storage_options)
    if "://" in path:
        from crucible_polars.sources.remote import FsspecSource, is_remote_file

        if is_remote_file(path, storage_options):
            fmt, inferred = infer_format([path])
            return _plan_for_packaged(fmt, path, None, {**inferred, **options}, storage_options)
        source: Source = FsspecSource(path, storage_options)
        return _plan_for_source(source, name, data_files, data_dir, options)
    from crucible_polars.sources.hub import hub_source_for

    hub = hub_source_for(
        path, revision=revision, token=token, cache_dir=cache_dir,
        force_download=download_mode == "force_redownload", streaming=streaming,
    )  # fmt: skip
    if hub is None:
        raise DataFilesNotFoundError(
            path,
            "It is not a local file or folder, a format name "
            f"({', '.join(SUPPORTED_FORMATS)}), a URL, or a dataset on the Hub.",
        )
    return hub.plan(name, data_files=data_files, data_dir=data_dir, options=options, splits=splits)


def _plan_for_packaged(
    fmt: str,
    data_files: DataFilesSpec | None,
    data_dir: str | None,
    options: ScanOptions,
    storage_options: dict[str, Any] | None,
) -> LoadPlan:
    if data_files is None and data_dir is None:
        raise ValueError(
            f"load_dataset({fmt!r}) needs data_files=... (a path, glob, list or "
            "{split: path}) or data_dir=..."
        )
    if data_files is None:
        assert data_dir is not None
        return _plan_for_source(LocalSource(data_dir), None, None, None, options, fmt=fmt)
    split_files: dict[str, list[str]] = {}
    for split, patterns in normalize_data_files(data_files).items():
        files: list[str] = []
        for pattern in patterns:
            if "://" in pattern:
                from crucible_polars.sources.remote import resolve_remote_pattern

                files.extend(resolve_remote_pattern(pattern, storage_options))
            else:
                files.extend(resolve_local_pattern(pattern, data_dir))
        split_files[split] = list(dict.fromkeys(files))
    if storage_options:
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
    base = (data_dir or config.data_dir or "").strip("/")
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
    if not explicit or fmt == "imagefolder":
        extensions = FORMAT_EXTENSIONS[fmt] + [".zip", ".tar", ".tgz"]
        keep = METADATA_FILENAMES if fmt == "imagefolder" else []
        split_files = {
            s: [f for f in fs if has_extension(f, extensions) or PurePosixPath(f).name in keep]
            for s, fs in split_files.items()
        }
        split_files = {s: fs for s, fs in split_files.items() if fs}
    if base:
        split_files = {s: [f"{base}/{f}" for f in fs] for s, fs in split_files.items()}
    return fmt, options, split_files


def _plan_for_source(
    source: Source,
    name: str | None,
    data_files: DataFilesSpec | None,
    data_dir: str | None,
    options: ScanOptions,
    *,
    fmt: str | None = None,
    configs: list[ConfigSpec] | None = None,
    splits: Sequence[str] | None = None,
) -> LoadPlan:
    """Plan a load from a source; ``configs`` overrides the README's, ``splits`` limits
    which splits' files are located (fetched, for the Hub)."""
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
    for split in splits or []:
        if split not in relative:
            raise SplitNotFoundError(split, list(relative))
    if splits is not None:
        relative = {s: fs for s, fs in relative.items() if s in splits}
    every = list(dict.fromkeys(f for fs in relative.values() for f in fs))
    located = dict(zip(every, source.locate(every), strict=True))  # one batch: one progress bar
    if source.storage_options:
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


def load_from_disk(path: str | os.PathLike[str]) -> Dataset | DatasetDict:
    """Load what :meth:`Dataset.save_to_disk` or :meth:`DatasetDict.save_to_disk` wrote.

    Examples
    --------
    >>> import tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "saved")
    >>> Dataset.from_dict({"a": [1]}).save_to_disk(folder)
    >>> load_from_disk(folder).num_rows
    1
    """
    folder = Path(path).expanduser()
    if (folder / DICT_FILE).is_file():
        splits = json.loads((folder / DICT_FILE).read_text())["splits"]
        return DatasetDict({s: _load_saved_split(folder / s) for s in splits})
    if (folder / INFO_FILE).is_file():
        return _load_saved_split(folder)
    raise DataFilesNotFoundError(
        str(folder), f"It holds no {INFO_FILE} or {DICT_FILE}; was it written by save_to_disk?"
    )


def _load_saved_split(folder: Path) -> Dataset:
    info = json.loads((folder / INFO_FILE).read_text())
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise DataFilesNotFoundError(str(folder / "*.parquet"))
    features = Features.from_dict(info.pop("features"))
    split, num_rows = info.pop("split", None), info.pop("num_rows", None)
    lf = pl.scan_parquet(files)
    return Dataset(lf, features, info=DatasetInfo.from_dict(info), split=split, num_rows=num_rows)
