"""The dataset card (``README.md``): its YAML front matter, read by ``huggingface_hub``.

The front matter is parsed by ``huggingface_hub.DatasetCard`` (the parser the Hub and
``datasets`` use, with its line-ending handling) and validated as ``datasets`` validates it:
``configs:`` must be a list of mappings. On top of that this module reads the two blocks the
loader needs, ``configs:`` (the configs' data files and options, see
:mod:`crucible_polars.resolve.configs`) and ``dataset_info:`` (features and row counts per
config, as YAML; :meth:`crucible_polars.features.Features.from_yaml` turns them into features).

Examples
--------
>>> meta = read_card_metadata("---\\ndataset_info:\\n  features:\\n  - name: a\\n"
...                           "    dtype: string\\n  splits:\\n  - name: train\\n"
...                           "    num_examples: 3\\n---\\n# Title")
>>> dataset_info_features(meta), dataset_info_rows(meta, "default")
({'default': [{'name': 'a', 'dtype': 'string'}]}, {'train': 3})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from huggingface_hub import DatasetCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK

__all__ = [
    "DEFAULT_CONFIG",
    "card_configs",
    "dataset_info_entries",
    "dataset_info_features",
    "dataset_info_rows",
    "read_card_metadata",
]

DEFAULT_CONFIG = "default"


def read_card_metadata(readme: str | None, *, origin: str = "README.md") -> dict[str, Any]:
    """The YAML front matter of a dataset card (``---`` ... ``---``) as a dict, or ``{}``.

    Parameters
    ----------
    readme
        The text of the card; ``None`` (no README) gives ``{}``, as does a card without a
        YAML block.
    origin
        The card's name in error messages (e.g. ``"owner/name/README.md"``).

    Raises
    ------
    ValueError
        The YAML block is not valid YAML, is not a mapping, or its ``configs:`` is not a list
        of mappings (``datasets`` refuses such a card too). The message names ``origin``.

    Examples
    --------
    >>> read_card_metadata("---\\r\\nlicense: mit\\r\\n---\\r\\n# Title")
    {'license': 'mit'}
    >>> read_card_metadata("# No metadata")
    {}
    >>> read_card_metadata("---\\nconfigs:\\n  main: {}\\n---\\n")
    Traceback (most recent call last):
    ...
    ValueError: README.md: the YAML `configs:` must be a list of configs, but got {'main': {}}.
    """
    if not readme or not REGEX_YAML_BLOCK.search(readme):
        return {}
    try:
        metadata: dict[str, Any] = DatasetCard(readme).data.to_dict()
    except (yaml.YAMLError, ValueError) as err:
        raise ValueError(f"{origin}: the YAML metadata block cannot be read: {err}") from err
    card_configs(metadata, origin=origin)
    return metadata


def card_configs(metadata: Mapping[str, Any], *, origin: str = "README.md") -> list[dict[str, Any]]:
    """The entries of the card's ``configs:`` block, in order; ``[]`` when there is none.

    Parameters
    ----------
    metadata
        The card metadata (:func:`read_card_metadata`).
    origin
        The card's name in error messages.

    Raises
    ------
    ValueError
        ``configs:`` is not a list of mappings.

    Examples
    --------
    >>> card_configs({"configs": [{"config_name": "main", "data_files": "main/*.csv"}]})
    [{'config_name': 'main', 'data_files': 'main/*.csv'}]
    """
    entries = metadata.get("configs") or []
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise ValueError(
            f"{origin}: the YAML `configs:` must be a list of configs, but got {entries!r}."
        )
    return [dict(e) for e in entries]


def dataset_info_entries(metadata: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{config_name: entry}`` of the card's ``dataset_info:`` (a mapping or a list of them).

    Parameters
    ----------
    metadata
        The card metadata (:func:`read_card_metadata`).

    Examples
    --------
    >>> list(dataset_info_entries({"dataset_info": [{"config_name": "main"}, {"x": 1}]}))
    ['main', 'default']
    """
    info = metadata.get("dataset_info")
    entries = info if isinstance(info, list) else [info] if isinstance(info, Mapping) else []
    return {
        str(e.get("config_name", DEFAULT_CONFIG)): dict(e)
        for e in entries
        if isinstance(e, Mapping)
    }


def dataset_info_features(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``{config_name: features-yaml}`` from the card's ``dataset_info:``.

    Parameters
    ----------
    metadata
        The card metadata (:func:`read_card_metadata`).

    Examples
    --------
    >>> dataset_info_features({"dataset_info": {"features": [{"name": "a", "dtype": "string"}]}})
    {'default': [{'name': 'a', 'dtype': 'string'}]}
    """
    return {
        name: entry["features"]
        for name, entry in dataset_info_entries(metadata).items()
        if entry.get("features")
    }


def dataset_info_rows(metadata: Mapping[str, Any], config: str) -> dict[str, int]:
    """``{split: num_examples}`` the card's ``dataset_info:`` records for one config.

    Parameters
    ----------
    metadata
        The card metadata (:func:`read_card_metadata`).
    config
        The config name.

    Examples
    --------
    >>> meta = {"dataset_info": [{"config_name": "main", "splits": [
    ...     {"name": "train", "num_examples": 7}, {"name": "test"}]}]}
    >>> dataset_info_rows(meta, "main"), dataset_info_rows(meta, "other")
    ({'train': 7}, {})
    """
    splits = dataset_info_entries(metadata).get(config, {}).get("splits") or []
    return {
        str(s["name"]): int(s["num_examples"])
        for s in splits
        if isinstance(s, Mapping) and "num_examples" in s and "name" in s
    }
