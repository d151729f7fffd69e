"""imagefolder: one row per image file, with ``datasets``' rules for labels and metadata.

The rules are those of ``datasets.packaged_modules.folder_based_builder``, which
``audiofolder`` shares (:mod:`crucible_polars.readers.audiofolder`: a :class:`FolderKind`
names the column, the extensions and the feature):

* Files are sorted into images (``IMAGE_EXTENSIONS``), metadata files (``metadata.csv``,
  ``metadata.jsonl``, ``metadata.parquet``) and archives (extracted once into the cache;
  their images and metadata files join the split, after the loose files).
* With metadata files, the rows are the metadata rows: ``file_name`` (a path relative to
  the metadata file's folder) becomes the ``image`` column at its place, ``x_file_name``
  becomes ``x``, ``file_names`` / ``x_file_names`` lists of images. Images that no metadata
  row names are not rows. A ``file_name`` that is absolute, a URL, or leaves the folder
  with ``..`` is refused. Every metadata file of every split must share one format and
  one schema; once any split has metadata, a split without metadata has no rows.
* Without metadata, class labels come from the folder holding each image: a ``label``
  column, ``ClassLabel(names=sorted(folder names))``, is added when there is more than one
  folder name and every image sits at the same depth (``drop_labels=False`` forces it,
  ``drop_labels=True`` drops it). Label names are gathered over every split.

Rows hold ``{"bytes": None, "path": <absolute path>}`` and decode only when collected.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crucible_polars.errors import DataFileError
from crucible_polars.features import ClassLabel, Features, Image, List
from crucible_polars.features.media import Audio
from crucible_polars.readers import csv, json, parquet
from crucible_polars.readers.archive_files import extract, extracted_files
from crucible_polars.readers.archives import is_archive
from crucible_polars.readers.base import Scan, ScanOptions, unify_schemas
from crucible_polars.readers.extensions import IMAGE_EXTENSIONS, METADATA_FILENAMES


@dataclass(frozen=True)
class FolderKind:
    """What a folder-based format reads: its column, its files' extensions, its feature.

    Examples
    --------
    >>> IMAGE_FOLDER.base, ".png" in IMAGE_FOLDER.extensions
    ('image', True)
    """

    base: str
    extensions: frozenset[str]
    feature: Callable[[], Image | Audio]


IMAGE_FOLDER = FolderKind("image", frozenset(IMAGE_EXTENSIONS), Image)


@dataclass
class _SplitFiles:
    """One split's files, sorted as ``datasets`` sorts them."""

    images: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)


def _path_module(path: str) -> Any:
    return posixpath if "://" in path else os.path


def _extension(path: str) -> str:
    return os.path.splitext(path.split("?")[0])[1].lower()


def is_image_file(path: str, kind: FolderKind = IMAGE_FOLDER) -> bool:
    """Whether imagefolder (or the folder ``kind``) reads ``path``, by extension as ``datasets``.

    Examples
    --------
    >>> is_image_file("a/b.JPG"), is_image_file("a/metadata.jsonl")
    (True, False)
    """
    if _extension(path) in kind.extensions:
        return True
    root, _ = os.path.splitext(path)
    return os.path.splitext(root)[1].lower() in kind.extensions  # e.g. "x.png.gz"


def classify_files(
    files: Sequence[str],
    metadata_filenames: Sequence[str] = tuple(METADATA_FILENAMES),
    storage_options: dict[str, Any] | None = None,
    kind: FolderKind = IMAGE_FOLDER,
) -> tuple[list[str], list[str]]:
    """Split data files into images (or the ``kind``'s files) and metadata files; archives
    are extracted and walked.

    Loose files keep their order and come first, then each archive's files in
    ``datasets``' walk order. Other files are ignored.

    Examples
    --------
    >>> classify_files(["t/cat/1.png", "t/metadata.csv", "t/notes.txt"])
    (['t/cat/1.png'], ['t/metadata.csv'])
    """
    images: list[str] = []
    metadata: list[str] = []
    archives: list[str] = []
    for path in files:
        name = _path_module(path).basename(path)
        if is_image_file(path, kind):
            images.append(path)
        elif name in metadata_filenames:
            metadata.append(path)
        elif is_archive(path):
            archives.append(path)
    for archive in archives:
        for member in extracted_files(extract(archive, storage_options)):
            if is_image_file(member, kind):
                images.append(member)
            elif os.path.basename(member) in metadata_filenames:
                metadata.append(member)
    return images, metadata


def _label_of(path: str) -> str:
    module = _path_module(path)
    return str(module.basename(module.dirname(path)))


def _depth(path: str) -> int:
    return path.replace("\\", "/").count("/")


def _image_values(paths: Sequence[str | None], name: str) -> pl.Series:
    return pl.Series(
        name,
        [None if p is None else {"bytes": None, "path": p} for p in paths],
        dtype=pl.Struct({"bytes": pl.Binary, "path": pl.String}),
    )


# --------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------


def _scan_metadata(path: str, storage_options: dict[str, Any] | None) -> Scan:
    """A metadata file read by our csv/json/parquet reader (the types ``datasets`` infers)."""
    scan = {".jsonl": json.scan, ".csv": csv.scan}.get(_extension(path), parquet.scan)
    options: dict[str, Any] = {"storage_options": storage_options} if storage_options else {}
    return scan([path], options)


def _file_name_columns(schema: pl.Schema, base: str) -> dict[str, tuple[str, bool]]:
    """``{metadata column: (new name, is_list)}`` for ``file_name``-style columns."""
    out: dict[str, tuple[str, bool]] = {}
    for name, dtype in schema.items():
        if (name == "file_name" or name.endswith("_file_name")) and dtype == pl.String:
            out[name] = (name[: -len("_file_name")] or base, False)
        elif (
            (name == "file_names" or name.endswith("_file_names"))
            and isinstance(dtype, pl.List)
            and dtype.inner == pl.String
        ):
            out[name] = (name[: -len("_file_names")] or base + "s", True)
    return out


def resolve_file_name(metadata_path: str, file_name: str) -> str:
    """The image a metadata ``file_name`` names: relative to the metadata file's folder.

    Raises
    ------
    DataFileError
        ``file_name`` is a URL, an absolute path, or leaves the folder with ``..``.

    Examples
    --------
    >>> resolve_file_name("/data/train/metadata.jsonl", "cats/1.png")
    '/data/train/cats/1.png'
    >>> resolve_file_name("/data/train/metadata.jsonl", "../../etc/passwd")
    Traceback (most recent call last):
    ...
    crucible_polars.errors.DataFileError: ...: file_name '../../etc/passwd' must be a relative ...
    """
    module = _path_module(metadata_path)
    relative = os.path.normpath(file_name).replace("\\", "/")
    if (
        "://" in file_name
        or os.path.isabs(file_name)
        or os.path.isabs(relative)
        or relative == ".."
        or relative.startswith("../")
    ):
        raise DataFileError(
            metadata_path,
            f"file_name {file_name!r} must be a relative path inside the metadata file's "
            "folder (no URL, no absolute path, no '..' leaving the folder)",
        )
    return str(module.join(module.dirname(metadata_path), relative))


def _resolver(metadata_path: str, is_list: bool) -> Any:
    def resolve(series: pl.Series) -> pl.Series:
        def one(name: str | None) -> str | None:
            return None if name is None else resolve_file_name(metadata_path, name)

        values = series.to_list()
        if is_list:
            out = [None if v is None else [one(x) for x in v] for v in values]
            return pl.Series(series.name, out, dtype=pl.List(pl.String))
        return pl.Series(series.name, [one(v) for v in values], dtype=pl.String)

    return resolve


def _image_struct(path: pl.Expr) -> pl.Expr:
    return pl.struct(pl.lit(None, dtype=pl.Binary).alias("bytes"), path.alias("path"))


def _metadata_frame(path: str, scan: Scan, kind: FolderKind) -> pl.LazyFrame:
    lf = scan.lf
    schema = lf.collect_schema()
    columns = _file_name_columns(schema, kind.base)
    exprs: list[pl.Expr] = []
    for name in schema.names():
        if name not in columns:
            exprs.append(pl.col(name))
            continue
        new_name, is_list = columns[name]
        resolved = pl.col(name).map_batches(
            _resolver(path, is_list),
            return_dtype=pl.List(pl.String) if is_list else pl.String,
        )
        if is_list:
            value = resolved.list.eval(_image_struct(pl.element()))
        else:
            value = pl.when(pl.col(name).is_not_null()).then(_image_struct(resolved))
        exprs.append(value.alias(new_name))
    return lf.select(exprs)


def _metadata_features(scan: Scan, kind: FolderKind) -> Features:
    schema = scan.lf.collect_schema()
    columns = _file_name_columns(schema, kind.base)
    if not columns:
        raise ValueError(
            "`file_name`, `*_file_name`, `file_names` or `*_file_names` must be present as "
            "dictionary key in metadata files"
        )
    inferred = scan.features if scan.features is not None else Features.from_polars(schema)
    features: dict[str, Any] = {}
    for name, feature in inferred.items():
        if name in columns:
            new_name, is_list = columns[name]
            features[new_name] = List(kind.feature()) if is_list else kind.feature()
        else:
            features[name] = feature
    return Features(features)


def _scan_with_metadata(
    own: list[str],
    every: list[str],
    storage_options: dict[str, Any] | None,
    kind: FolderKind,
) -> Scan:
    extensions = sorted({_extension(p) for p in every})
    if len(extensions) > 1:
        raise ValueError(f"Found metadata files with different extensions: {extensions}")
    scans = {p: _scan_metadata(p, storage_options) for p in every}
    schemas = {p: scan.lf.collect_schema() for p, scan in scans.items()}
    first = every[0]
    for path, schema in schemas.items():
        if schema != schemas[first]:
            unify_schemas([first, path], [schemas[first], schema])  # names the column
            raise ValueError(
                f"Metadata files {path} and {first} have different features: "
                f"{schemas[first]} != {schema}"
            )
    features = _metadata_features(scans[first], kind)
    frames = [_metadata_frame(p, scans[p], kind) for p in sorted(own)]
    if frames:
        lf = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    else:
        lf = pl.LazyFrame(schema=features.to_polars())
    diagnoses = [scans[p].diagnose for p in sorted(own)]

    def diagnose(error: BaseException) -> Any:
        return next((e for e in (d(error) for d in diagnoses) if e is not None), None)

    return Scan(lf=lf, features=features, diagnose=diagnose)


# --------------------------------------------------------------------------------------
# The scan
# --------------------------------------------------------------------------------------


def scan_imagefolder(files: list[str], options: ScanOptions) -> Scan:
    """Scan an imagefolder split lazily: rows of ``{"image": {bytes, path}, ...}``.

    Parameters
    ----------
    files
        The split's data files: images, ``metadata.*`` files and archives.
    options
        ``drop_labels`` / ``drop_metadata`` (``None``, ``True`` or ``False``, as in
        ``datasets``), ``metadata_filenames``, ``storage_options``, ``split_files``
        (``{split: files}`` of the whole load, so that labels and metadata are decided
        over every split) and ``features`` (the load's ``features=``: its ``label``
        ClassLabel encodes the folder names, as ``datasets`` does);
        :func:`~crucible_polars.load_dataset` passes the last two.

    Returns
    -------
    Scan
        The lazy rows and their Features.

    Examples
    --------
    >>> import tempfile, PIL.Image
    >>> root = tempfile.mkdtemp()
    >>> for label in ["cat", "dog"]:
    ...     os.makedirs(f"{root}/{label}")
    ...     PIL.Image.new("RGB", (4, 4)).save(f"{root}/{label}/1.png")
    >>> scan = scan_imagefolder([f"{root}/cat/1.png", f"{root}/dog/1.png"], {})
    >>> scan.features["label"]
    ClassLabel(names=['cat', 'dog'])
    >>> scan.lf.select("label").collect()["label"].to_list()
    [0, 1]
    """
    return scan_folder(files, options, IMAGE_FOLDER)


def scan_folder(files: list[str], options: ScanOptions, kind: FolderKind) -> Scan:
    """Scan a split of a folder-based format (``kind``), as :func:`scan_imagefolder` does.

    Examples
    --------
    >>> scan_folder([], {}, IMAGE_FOLDER).features
    Features({'image': Image(mode=None, decode=True)})
    """
    drop_labels = options.get("drop_labels")
    drop_metadata = options.get("drop_metadata")
    metadata_filenames = tuple(options.get("metadata_filenames") or METADATA_FILENAMES)
    storage_options = options.get("storage_options")
    own_images, own_metadata = classify_files(files, metadata_filenames, storage_options, kind)
    every_split: dict[str, list[str]] = options.get("split_files") or {"": files}
    analyze = not drop_labels or not drop_metadata
    labels: set[str] = set()
    depths: set[int] = set()
    all_metadata: list[str] = []
    if analyze:
        for split_files in every_split.values():
            same = list(split_files) == list(files)
            images, metadata = (
                (own_images, own_metadata)
                if same
                else classify_files(split_files, metadata_filenames, storage_options, kind)
            )
            all_metadata.extend(metadata)
            if not drop_labels:
                labels.update(_label_of(p) for p in images)
                depths.update(_depth(p) for p in images)
    if all_metadata:
        if not drop_metadata:
            every = list(dict.fromkeys(all_metadata))
            return _scan_with_metadata(own_metadata, every, storage_options, kind)
        add_labels = False
    elif drop_labels is None:
        add_labels = len(labels) > 1 and len(depths) == 1
    else:
        add_labels = not drop_labels
    columns: dict[str, pl.Series] = {kind.base: _image_values(own_images, kind.base)}
    features = Features({kind.base: kind.feature()})
    if add_labels:
        label = ClassLabel(names=sorted(labels))
        wanted = options.get("features")
        if wanted is not None and isinstance(wanted.get("label"), ClassLabel):
            label = wanted["label"]  # folder names are encoded with the requested names
        ids = {name: i for i, name in enumerate(label.names)}
        unknown = sorted({_label_of(p) for p in own_images} - set(ids))
        if unknown:
            raise ValueError(
                f"Invalid string class label {unknown[0]}: the image folders {unknown} are "
                f"not among the label names {label.names} of the features passed."
            )
        columns["label"] = pl.Series(
            "label", [ids[_label_of(p)] for p in own_images], dtype=pl.Int64
        )
        features["label"] = label
    return Scan(lf=pl.DataFrame(columns).lazy(), features=features)


__all__ = [
    "IMAGE_FOLDER",
    "FolderKind",
    "classify_files",
    "is_image_file",
    "resolve_file_name",
    "scan_folder",
    "scan_imagefolder",
]
