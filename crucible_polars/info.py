"""DatasetInfo: the descriptive metadata that travels with a dataset."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DatasetInfo:
    """Description, citation, licence and provenance of a dataset (as ``datasets.DatasetInfo``).

    Features are kept on the ``Dataset`` itself; ``to_dict`` adds them for writing.

    Parameters
    ----------
    description
        What the dataset is.
    citation
        How to cite it (BibTeX).
    homepage
        Its web page.
    license
        Its licence.
    dataset_name
        The dataset's name.
    config_name
        The config it was loaded from.
    version
        Its version string.
    splits
        Per-split metadata, as ``datasets`` writes it (``{split: {...}}``).
    extra
        Other keys of the ``info`` dict, kept as they are.

    Examples
    --------
    >>> DatasetInfo(description="math", dataset_name="gsm8k").dataset_name
    'gsm8k'
    """

    description: str = ""
    citation: str = ""
    homepage: str = ""
    license: str = ""
    dataset_name: str | None = None
    config_name: str | None = None
    version: str | None = None
    splits: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = (
        "description",
        "citation",
        "homepage",
        "license",
        "dataset_name",
        "config_name",
        "version",
        "splits",
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DatasetInfo:
        """Read the ``info`` dict ``datasets`` writes (unknown keys are kept in ``extra``).

        Examples
        --------
        >>> DatasetInfo.from_dict({"description": "d", "features": {}}).description
        'd'
        """
        data = dict(data or {})
        data.pop("features", None)
        known = {k: data.pop(k) for k in cls._KNOWN if k in data}
        if known.get("version") is not None and not isinstance(known["version"], str):
            version = known["version"]
            known["version"] = (
                version.get("version_str") if isinstance(version, dict) else str(version)
            )
        if not isinstance(known.get("splits", {}), dict):
            known["splits"] = {}
        for key in ("description", "citation", "homepage", "license"):
            if known.get(key) is None:
                known.pop(key, None)
        return cls(**known, extra=data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (``extra`` merged back in).

        Examples
        --------
        >>> DatasetInfo(license="mit").to_dict()["license"]
        'mit'
        """
        out = {k: v for k, v in asdict(self).items() if k != "extra"}
        out.update(self.extra)
        return out

    def to_json(self) -> str:
        """``to_dict`` as a JSON string.

        Examples
        --------
        >>> json.loads(DatasetInfo(license="mit").to_json())["license"]
        'mit'
        """
        return json.dumps(self.to_dict(), default=str)

    def copy(self, **changes: Any) -> DatasetInfo:
        """A copy with some fields changed.

        Examples
        --------
        >>> DatasetInfo().copy(config_name="main").config_name
        'main'
        """
        data = asdict(self)
        data.update(changes)
        return DatasetInfo(**data)
