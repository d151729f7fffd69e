"""audiofolder: one row per audio file, with ``datasets``' rules for labels and metadata.

The rules are imagefolder's (:mod:`crucible_polars.readers.imagefolder`, from
``datasets.packaged_modules.folder_based_builder``): the column is ``audio``
(:class:`~crucible_polars.features.Audio`), the files are ``datasets``' ``AudioFolder``
extensions, ``metadata.csv/jsonl/parquet`` rows name their clip in ``file_name``, and
without metadata the folder names become a ``label`` ``ClassLabel``.
"""

from __future__ import annotations

from crucible_polars.features import Audio
from crucible_polars.readers.base import Scan, ScanOptions
from crucible_polars.readers.extensions import AUDIO_EXTENSIONS
from crucible_polars.readers.imagefolder import FolderKind, scan_folder

AUDIO_FOLDER = FolderKind("audio", frozenset(AUDIO_EXTENSIONS), Audio)
"""The audiofolder format: ``audio`` column, ``AudioFolder.EXTENSIONS``, ``Audio()``."""


def scan_audiofolder(files: list[str], options: ScanOptions) -> Scan:
    """Scan an audiofolder split lazily: rows of ``{"audio": {bytes, path}, ...}``.

    Parameters
    ----------
    files
        The split's data files: audio files, ``metadata.*`` files and archives.
    options
        As for :func:`~crucible_polars.readers.imagefolder.scan_imagefolder`
        (``drop_labels``, ``drop_metadata``, ``metadata_filenames``, ``storage_options``,
        ``split_files``, ``features``).

    Returns
    -------
    Scan
        The lazy rows and their Features.

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for label in ["no", "yes"]:
    ...     os.makedirs(f"{root}/{label}")
    ...     open(f"{root}/{label}/1.wav", "wb").close()
    >>> scan = scan_audiofolder([f"{root}/no/1.wav", f"{root}/yes/1.wav"], {})
    >>> scan.features["label"]
    ClassLabel(names=['no', 'yes'])
    >>> scan.lf.collect().columns
    ['audio', 'label']
    """
    return scan_folder(files, options, AUDIO_FOLDER)


__all__ = ["AUDIO_FOLDER", "scan_audiofolder"]
