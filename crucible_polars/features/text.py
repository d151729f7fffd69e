"""Features stored as text: ``Json``, ``Translation`` and ``TranslationVariableLanguages``.

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
from .lists import List
from .value import Value

if TYPE_CHECKING:  # pragma: no cover
    from .types import FeatureType

__all__ = ["Json", "Translation", "TranslationVariableLanguages"]


@dataclass
class Json(FeatureBase):
    """Arbitrary JSON values, stored as JSON text (Arrow ``json`` extension type).

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
        from .types import feature_to_polars, storage_feature  # that module imports this one

        return feature_to_polars(storage_feature(self))

    def flatten(self) -> dict[str, FeatureType]:
        """Return one string feature per language, as ``datasets`` flattens it."""
        return {lang: Value("string") for lang in sorted(self.languages)}


@dataclass
class TranslationVariableLanguages(FeatureBase):
    """Translations into a variable set of languages: ``{language: [...], translation: [...]}``.

    Examples
    --------
    >>> TranslationVariableLanguages(languages=["fr", "en", "fr"]).languages
    ['en', 'fr']
    """

    languages: list[str] | None = None
    num_languages: int | None = None
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="TranslationVariableLanguages", init=False, repr=False)

    def __post_init__(self) -> None:
        self.languages = sorted(set(self.languages)) if self.languages else None
        self.num_languages = len(self.languages) if self.languages else None

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``struct<language: list<string>, translation: list<string>>``."""
        return pa.struct({"language": pa.list_(pa.string()), "translation": pa.list_(pa.string())})

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype."""
        from .types import feature_to_polars, storage_feature  # that module imports this one

        return feature_to_polars(storage_feature(self))

    def flatten(self) -> dict[str, FeatureType]:
        """Return the two list features, as ``datasets`` flattens it."""
        return {"language": List(Value("string")), "translation": List(Value("string"))}
