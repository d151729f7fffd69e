"""Which reader reads a file: extensions per format, and the format of a list of files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from crucible_polars.errors import UnsupportedFormatError
from crucible_polars.readers.archive_files import archive_member_names
from crucible_polars.readers.archives import is_archive
from crucible_polars.readers.base import ScanOptions

IMAGE_EXTENSIONS = [
    ".blp",
    ".bmp",
    ".dib",
    ".bufr",
    ".cur",
    ".pcx",
    ".dcx",
    ".dds",
    ".ps",
    ".eps",
    ".fit",
    ".fits",
    ".fli",
    ".flc",
    ".ftc",
    ".ftu",
    ".gbr",
    ".gif",
    ".grib",
    ".png",
    ".apng",
    ".jp2",
    ".j2k",
    ".jpc",
    ".jpf",
    ".jpx",
    ".j2c",
    ".icns",
    ".ico",
    ".im",
    ".iim",
    ".tif",
    ".tiff",
    ".jfif",
    ".jpe",
    ".jpg",
    ".jpeg",
    ".mpg",
    ".mpeg",
    ".msp",
    ".pcd",
    ".pxr",
    ".pbm",
    ".pgm",
    ".ppm",
    ".pnm",
    ".psd",
    ".bw",
    ".rgb",
    ".rgba",
    ".sgi",
    ".ras",
    ".tga",
    ".icb",
    ".vda",
    ".vst",
    ".webp",
    ".wmf",
    ".emf",
    ".xbm",
    ".xpm",
]
"""``datasets``' ``ImageFolder.EXTENSIONS``: the files an imagefolder reads."""
AUDIO_EXTENSIONS = [
    ".aiff",
    ".au",
    ".avr",
    ".caf",
    ".flac",
    ".htk",
    ".svx",
    ".mat4",
    ".mat5",
    ".mpc2k",
    ".ogg",
    ".paf",
    ".pvf",
    ".raw",
    ".rf64",
    ".sd2",
    ".sds",
    ".ircam",
    ".voc",
    ".w64",
    ".wav",
    ".nist",
    ".wavex",
    ".wve",
    ".xi",
    ".mp3",
    ".opus",
    ".3gp",
    ".3g2",
    ".avi",
    ".asf",
    ".flv",
    ".mp4",
    ".mov",
    ".m4v",
    ".mkv",
    ".mpg",
    ".webm",
    ".f4v",
    ".wmv",
    ".wma",
    ".ogm",
    ".mxf",
    ".nut",
]
"""``datasets``' ``AudioFolder.EXTENSIONS``: the files an audiofolder reads (soundfile decodes
the libsndfile formats and MP3; the video containers need another decoder)."""
METADATA_FILENAMES = ["metadata.csv", "metadata.jsonl", "metadata.parquet"]
"""Files that add columns to an image/audio folder (``datasets``' ``METADATA_FILENAMES``)."""
FOLDER_FORMATS = ("imagefolder", "audiofolder")
"""The folder-based formats: one row per media file, labels from folders, ``metadata.*``."""

FORMAT_EXTENSIONS: dict[str, list[str]] = {
    "parquet": [".parquet", ".geoparquet", ".gpq"],
    "json": [".json", ".jsonl", ".ndjson"],
    "csv": [".csv", ".tsv"],
    "text": [".txt"],
    "arrow": [".arrow"],
    "imagefolder": [e for e in IMAGE_EXTENSIONS if e not in (".mpg", ".mpeg")],  # video there
    "audiofolder": AUDIO_EXTENSIONS,
}
SUPPORTED_FORMATS = list(FORMAT_EXTENSIONS)
_IGNORED_SUFFIXES = {
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".zstd",
    ".zip",
    ".tar",
    ".tgz",
    ".tbz2",
    ".tbz",
    ".txz",
    ".tzst",
}
_TIE_BREAK = [".parquet", ".arrow", ".jsonl", ".json", ".csv"]


def format_for_extension(ext: str) -> str | None:
    """The format that reads files with extension ``ext`` (``".tsv"`` -> ``"csv"``).

    Examples
    --------
    >>> format_for_extension(".jsonl"), format_for_extension(".xlsx")
    ('json', None)
    """
    ext = ext.lower()
    for name, exts in FORMAT_EXTENSIONS.items():
        if ext in exts:
            return name
    return None


def infer_format(
    files: Sequence[str], members: Callable[[str], list[str]] | None = None
) -> tuple[str, ScanOptions]:
    """Pick the format from the most common extension, as ``datasets`` does.

    Ties go to parquet, then jsonl, json and csv; imagefolder ``metadata.*`` files count
    last. ``.tsv`` adds ``sep="\\t"``. When only archives are left, ``members(archive)``
    (default: read the archive's headers) lists what they hold and decides.

    Examples
    --------
    >>> infer_format(["a/train.jsonl.gz", "a/test.jsonl"])
    ('json', {})
    >>> infer_format(["x.tsv"])
    ('csv', {'sep': '\\t'})
    >>> infer_format(["train/cat/1.png", "train/metadata.jsonl"])
    ('imagefolder', {})
    """
    counts: Counter[tuple[str, bool]] = Counter(
        ("." + suffix.lower(), PurePosixPath(f).name in METADATA_FILENAMES)
        for f in files
        for suffix in PurePosixPath(f).name.split(".")[1:]
        if "." + suffix.lower() not in _IGNORED_SUFFIXES
    )

    def rank(item: tuple[tuple[str, bool], int]) -> tuple[bool, int, int, str]:
        (ext, is_metadata), count = item
        tie = len(_TIE_BREAK) - _TIE_BREAK.index(ext) if ext in _TIE_BREAK else 0
        return (not is_metadata, count, tie, ext)

    for (ext, _), _ in sorted(counts.items(), key=rank, reverse=True):
        fmt = format_for_extension(ext)
        if fmt is not None:
            return fmt, ({"sep": "\t"} if ext == ".tsv" else {})
    archived = [f for f in files if is_archive(f)]
    if archived:
        list_members = members or archive_member_names
        inside = [m for archive in archived[:5] for m in list_members(archive)]
        if inside:
            return infer_format(inside)
    shown = ", ".join(list(files)[:3])
    raise UnsupportedFormatError(shown or "<no files>", SUPPORTED_FORMATS)


__all__ = [
    "AUDIO_EXTENSIONS",
    "FOLDER_FORMATS",
    "FORMAT_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "METADATA_FILENAMES",
    "SUPPORTED_FORMATS",
    "format_for_extension",
    "infer_format",
]
