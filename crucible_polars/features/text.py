"""The leaf features stored as text: ``Json`` (JSON values) and ``Translation`` (one string
per fixed language), with the fields and JSON form of their ``datasets`` namesakes.

Examples
--------
>>> Json().to_polars(), Translation(languages=["en"]).to_polars()
(String, Struct({'en': String}))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from .base import FeatureBase
from .value import Value

if TYPE_CHECKING:
    from .nested import FeatureType

__all__ = ["Json", "Translation"]


@dataclass
class Json(FeatureBase):
    """Arbitrary JSON values, stored as JSON text (Arrow ``json`` extension type).

    Parameters
    ----------
    decode
        Kept for ``datasets`` compatibility (the values are read as JSON text).
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Json().to_polars()
    String
    """

    decode: bool = True
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Json", init=False, repr=False)

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``pa.json_()``."""
        return pa.json_()

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``String``."""
        return pl.String()


@dataclass
class Translation(FeatureBase):
    """Translations of one text into fixed languages: a struct of one string per language.

    Parameters
    ----------
    languages
        The language codes, one string field each.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> Translation(languages=["fr", "en"]).to_polars()
    Struct({'en': String, 'fr': String})
    """

    languages: list[str]
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="Translation", init=False, repr=False)

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, a struct of strings keyed by sorted language."""
        return pa.struct({lang: pa.string() for lang in sorted(self.languages)})

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, a struct of strings keyed by sorted language."""
        return pl.Struct({lang: pl.String() for lang in sorted(self.languages)})

    def flatten(self) -> dict[str, FeatureType]:
        """Return one string feature per language, as ``datasets`` flattens it."""
        return {lang: Value("string") for lang in sorted(self.languages)}
