"""Configs: read from a README's YAML ``configs:`` block, else one ``default`` config.

Shared by local folders and Hub repositories: both hand in the card metadata (parsed by
:mod:`crucible_polars.resolve.card`) and a file listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crucible_polars.errors import ConfigNotFoundError
from crucible_polars.resolve.card import DEFAULT_CONFIG, card_configs, dataset_info_features
from crucible_polars.resolve.patterns import normalize_data_files

__all__ = ["DEFAULT_CONFIG", "ConfigSpec", "choose_config", "configs_from_metadata"]
_NOT_BUILDER_OPTIONS = {"config_name", "data_files", "data_dir", "default", "features"}


@dataclass
class ConfigSpec:
    """One config: its data-file patterns per split, ``data_dir``, and reader options.

    Examples
    --------
    >>> ConfigSpec("main", data_dir="main").data_dir
    'main'
    """

    name: str
    data_files: dict[str, list[str]] | None = None
    data_dir: str | None = None
    default: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    features: Any = None


def configs_from_metadata(
    metadata: dict[str, Any], *, origin: str = "README.md"
) -> list[ConfigSpec]:
    """Configs declared in card metadata (``configs:``), in order; ``[]`` when none.

    Parameters
    ----------
    metadata
        The card metadata (:func:`crucible_polars.resolve.card.read_card_metadata`).
    origin
        The card's name in error messages.

    Raises
    ------
    ValueError
        ``configs:`` is not a list of mappings.

    Examples
    --------
    >>> meta = {"configs": [{"config_name": "main", "data_files": [
    ...     {"split": "train", "path": "main/train-*"}]}]}
    >>> configs_from_metadata(meta)[0].data_files
    {'train': ['main/train-*']}
    """
    infos = dataset_info_features(metadata)
    out = []
    for entry in card_configs(metadata, origin=origin):
        name = str(entry.get("config_name", DEFAULT_CONFIG))
        data_files = entry.get("data_files")
        out.append(
            ConfigSpec(
                name=name,
                data_files=normalize_data_files(data_files) if data_files else None,
                data_dir=entry.get("data_dir"),
                default=bool(entry.get("default", False)),
                options={k: v for k, v in entry.items() if k not in _NOT_BUILDER_OPTIONS},
                features=entry.get("features") or infos.get(name),
            )
        )
    return out


def choose_config(
    configs: list[ConfigSpec], name: str | None, repo_id: str | None = None
) -> ConfigSpec:
    """Pick the requested config, or the default one, as ``datasets`` does.

    Examples
    --------
    >>> cs = [ConfigSpec("a"), ConfigSpec("b", default=True)]
    >>> choose_config(cs, None).name, choose_config(cs, "a").name
    ('b', 'a')
    """
    names = [c.name for c in configs]
    if name is not None:
        for config in configs:
            if config.name == name:
                return config
        raise ConfigNotFoundError(name, names, repo_id)
    defaults = [c for c in configs if c.default]
    if defaults:
        return defaults[0]
    if len(configs) == 1:
        return configs[0]
    for config in configs:
        if config.name == DEFAULT_CONFIG:
            return config
    raise ConfigNotFoundError(None, names, repo_id)
