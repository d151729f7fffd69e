"""Nested features: the containers, the types stored as text, and the functions over nesting.

Here live ``FeatureType`` (any feature), the list containers ``List`` (fixed-size with a
length), ``LargeList`` and the legacy ``Sequence``, and the functions that recurse through
nested features (``dict`` structs, lists, legacy ``[feature]`` lists): their ``datasets`` JSON
form, their Arrow type, their Polars dtype and their storage form. The containers need that
recursion for their own types, and the recursion needs every feature type, so they are kept
together, as ``datasets`` keeps ``Sequence``, ``List`` and ``get_nested_type`` together. The
feature stored as text that flattens into ``List``, ``TranslationVariableLanguages``, lives
here too; ``Json`` and ``Translation`` are leaves, in :mod:`.text`.

Every type has the same fields, defaults and JSON form (``to_dict``) as its ``datasets``
namesake, so ``dataset_info`` and parquet schema metadata move between the two libraries
without loss. The leaf types live in one module per kind: :mod:`.value`,
:mod:`.class_label`, :mod:`.media`, :mod:`.arrays` and :mod:`.text`.

Examples
--------
>>> from crucible_polars.features import ClassLabel, Value
>>> List(Value("int32")).to_polars(), LargeList(Value("int32")).to_polars()
(List(Int32), List(Int32))
>>> ClassLabel(names=["neg", "pos"]).to_dict()
{'names': ['neg', 'pos'], '_type': 'ClassLabel'}
>>> Json().to_polars(), Translation(languages=["en"]).to_polars()
(String, Struct({'en': String}))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Union

import polars as pl
import pyarrow as pa

from .arrays import Array2D, Array3D, Array4D, Array5D, ArrayXD
from .base import FeatureBase, feature_asdict
from .class_label import ClassLabel
from .media import Audio, Image
from .text import Json, Translation
from .value import Value

__all__ = [
    "FeatureType",
    "Json",
    "LargeList",
    "List",
    "Sequence",
    "Translation",
    "TranslationVariableLanguages",
    "check_feature",
    "feature_from_dict",
    "feature_to_arrow",
    "feature_to_dict",
    "feature_to_polars",
    "storage_feature",
]


# --------------------------------------------------------------------------------------
# The list containers
# --------------------------------------------------------------------------------------


class Sequence:
    """``datasets``' legacy list constructor: ``Sequence(feature, length=-1)``.

    ``Sequence(x)`` returns ``List(x, length)``; a ``Sequence`` of a dict returns a dict of
    ``List`` (TFDS style), unless every value of the dict is already a ``List``, exactly as
    ``datasets`` 4+ does. ``isinstance(List(...), Sequence)`` is true.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> Sequence(Value("int32"))
    List(Value('int32'))
    >>> Sequence({"text": Value("string"), "start": Value("int32")})
    {'text': List(Value('string')), 'start': List(Value('int32'))}
    """

    def __new__(cls, feature: Any = None, length: int = -1, id: str | None = None) -> Any:
        if (
            cls is Sequence
            and isinstance(feature, dict)
            and any(not isinstance(sub, List) for sub in feature.values())
        ):
            return {key: List(value, length=length, id=id) for key, value in feature.items()}
        return object.__new__(List if cls is Sequence else cls)


@dataclass(repr=False)
class List(FeatureBase, Sequence):
    """A list of ``feature``; fixed-size when ``length`` is given.

    Stored as Arrow ``list`` (``fixed_size_list`` with a length); in Polars a ``List`` or,
    with a length, an ``Array``.

    Parameters
    ----------
    feature
        The type of the items.
    length
        The fixed length of every list, or -1 for any length.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> List(Value("int64"))
    List(Value('int64'))
    >>> List(Value("float32"), length=3).to_polars()
    Array(Float32, shape=(3,))
    """

    feature: FeatureType
    length: int = -1
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="List", init=False, repr=False)

    def __repr__(self) -> str:
        if self.length != -1:
            return f"{type(self).__name__}({self.feature}, length={self.length})"
        return f"{type(self).__name__}({self.feature})"

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type (``list`` or ``fixed_size_list``).

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> List(Value("int8"), length=2).to_arrow()
        FixedSizeListType(fixed_size_list<item: int8>[2])
        """

        return pa.list_(feature_to_arrow(self.feature), self.length)

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype (``List``, or ``Array`` for a fixed length).

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> List({"a": Value("int8")}).to_polars()
        List(Struct({'a': Int8}))
        """

        inner = feature_to_polars(self.feature)
        return pl.List(inner) if self.length == -1 else pl.Array(inner, self.length)


@dataclass(repr=False)
class LargeList(FeatureBase):
    """A list of ``feature`` with 64-bit offsets (Arrow ``large_list``; a Polars ``List``).

    Parameters
    ----------
    feature
        The feature of the items.
    id
        Optional identifier, kept for ``datasets`` compatibility.

    Examples
    --------
    >>> from crucible_polars.features import Value
    >>> LargeList(Value("string")).to_arrow()
    LargeListType(large_list<item: string>)
    """

    feature: FeatureType
    id: str | None = field(default=None, repr=False)
    _type: str = field(default="LargeList", init=False, repr=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.feature})"

    def to_arrow(self) -> pa.DataType:
        """Return the Arrow type, ``large_list``."""

        return pa.large_list(feature_to_arrow(self.feature))

    def to_polars(self) -> pl.DataType:
        """Return the Polars dtype, ``List``."""

        return pl.List(feature_to_polars(self.feature))


# --------------------------------------------------------------------------------------
# The feature stored as text that flattens into List
# --------------------------------------------------------------------------------------


@dataclass
class TranslationVariableLanguages(FeatureBase):
    """Translations into a variable set of languages: ``{language: [...], translation: [...]}``.

    Parameters
    ----------
    languages
        The allowed language codes (sorted and deduplicated), or ``None`` for any.
    num_languages
        Set from ``languages`` (its length).
    id
        Optional identifier, kept for ``datasets`` compatibility.

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
        """Return the Polars dtype, a struct of two ``List(String)``: language, translation."""
        return pl.Struct({"language": pl.List(pl.String()), "translation": pl.List(pl.String())})

    def flatten(self) -> dict[str, FeatureType]:
        """Return the two list features, as ``datasets`` flattens it."""
        return {"language": List(Value("string")), "translation": List(Value("string"))}


# --------------------------------------------------------------------------------------
# Any feature, and the functions over nested features
# --------------------------------------------------------------------------------------


FeatureType = Union[
    Value,
    ClassLabel,
    List,
    LargeList,
    Image,
    Audio,
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Json,
    Translation,
    TranslationVariableLanguages,
    "dict[str, FeatureType]",
]
"""Any column type: a feature dataclass, or a ``dict`` of them (a struct)."""

_LEAF_TYPES = (
    Value,
    ClassLabel,
    Image,
    Audio,
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Json,
    Translation,
    TranslationVariableLanguages,
)

_FEATURE_TYPES: dict[str, type] = {cls.__name__: cls for cls in (*_LEAF_TYPES, List, LargeList)}


def check_feature(feature: Any) -> FeatureType:
    """Validate a (nested) feature and turn legacy ``[feature]`` lists into ``List``.

    A foreign ``datasets`` feature object is converted through its JSON form.

    Parameters
    ----------
    feature
        A feature, a dict of features (a struct), or a legacy one-item list of a feature.

    Raises
    ------
    ValueError
        For a legacy list that does not hold exactly one feature.
    TypeError
        For anything that is not a feature.

    Examples
    --------
    >>> check_feature({"tags": [Value("string")]})
    {'tags': List(Value('string'))}
    """
    if isinstance(feature, (list, tuple)) and not isinstance(feature, str):
        if len(feature) != 1:
            raise ValueError(
                "When defining list feature, you should just provide one example of the inner type"
            )
        return List(check_feature(feature[0]))
    if isinstance(feature, dict):
        return {str(k): check_feature(v) for k, v in feature.items()}
    if isinstance(feature, List):
        checked = check_feature(feature.feature)
        if checked is not feature.feature:
            return List(checked, length=feature.length, id=feature.id)
        return feature
    if isinstance(feature, LargeList):
        checked = check_feature(feature.feature)
        if checked is not feature.feature:
            return LargeList(checked, id=feature.id)
        return feature
    if isinstance(feature, _LEAF_TYPES):
        return feature
    if is_dataclass(feature) and isinstance(getattr(feature, "_type", None), str):
        # a ``datasets`` feature object: convert it through its JSON form
        return feature_from_dict(feature_asdict(feature))
    raise TypeError(
        f"{feature!r} is not a feature type; use Value, ClassLabel, List, LargeList, Image, "
        "Audio, Array2D..Array5D, Json, Translation or a dict of these."
    )


def feature_to_dict(feature: FeatureType) -> Any:
    """Return the ``datasets`` JSON form of a (possibly nested) feature.

    Parameters
    ----------
    feature
        A feature, or a dict or list of features.

    Examples
    --------
    >>> feature_to_dict({"a": List(Value("int8"))})
    {'a': {'feature': {'dtype': 'int8', '_type': 'Value'}, '_type': 'List'}}
    """
    return feature_asdict(feature)


def feature_from_dict(obj: Any) -> FeatureType:
    """Build a (possibly nested) feature from its ``datasets`` JSON form.

    ``"_type": "Sequence"`` (written by ``datasets`` < 4) gives ``List`` or, for a dict, a
    dict of ``List``, as ``datasets`` reads it; a legacy ``[feature]`` gives ``List``.

    Parameters
    ----------
    obj
        The JSON form, as in ``dataset_info.json`` or the ``huggingface`` metadata.

    Raises
    ------
    ValueError
        For an unknown ``_type``.

    Examples
    --------
    >>> feature_from_dict({"feature": {"dtype": "int32", "_type": "Value"}, "_type": "Sequence"})
    List(Value('int32'))
    """
    if isinstance(obj, list):
        if len(obj) != 1:
            raise ValueError(
                "When defining list feature, you should just provide one example of the inner type"
            )
        return List(feature_from_dict(obj[0]))
    if not isinstance(obj, Mapping):
        raise ValueError(f"Cannot read a feature from {obj!r}")
    if "_type" not in obj or isinstance(obj["_type"], Mapping):
        return {str(key): feature_from_dict(value) for key, value in obj.items()}
    obj = dict(obj)
    type_name = obj.pop("_type")
    if type_name in ("List", "LargeList", "Sequence"):
        if "feature" not in obj:
            raise ValueError(f"A {type_name} feature needs a 'feature' key: {obj!r}")
        inner = feature_from_dict(obj.pop("feature"))
        kwargs: dict[str, Any] = {k: obj[k] for k in ("length", "id") if k in obj}
        if type_name == "LargeList":
            kwargs.pop("length", None)
            return LargeList(inner, **kwargs)
        if type_name == "Sequence":
            result: FeatureType = Sequence(inner, **kwargs)
            return result
        return List(inner, **kwargs)
    cls = _FEATURE_TYPES.get(type_name)
    if cls is None:
        available = [*_FEATURE_TYPES, "Sequence"]
        raise ValueError(
            f"Feature type '{type_name}' not found. Available feature types: {available}"
        )
    names = {f.name for f in fields(cls) if f.init}
    built: FeatureType = cls(**{k: v for k, v in obj.items() if k in names})
    return built


def storage_feature(feature: FeatureType) -> FeatureType:
    """Return the plain structural feature (dicts, lists, values) a feature is stored as.

    ``Image``/``Audio`` give ``{"bytes": binary, "path": string}``, ``ArrayND`` nested
    fixed-length ``List``, ``Translation`` a dict of strings, ``Json`` a string. Other
    features are returned as they are.

    Examples
    --------
    >>> storage_feature(Array2D(shape=(None, 3), dtype="int8"))
    List(List(Value('int8'), length=3))
    """
    if isinstance(feature, (Image, Audio)):
        return {"bytes": Value("binary"), "path": Value("string")}
    if isinstance(feature, ArrayXD):
        inner: FeatureType = Value(feature.dtype)
        for dim in reversed(feature.shape):
            inner = List(inner, length=-1 if dim is None else dim)
        return inner
    if isinstance(feature, Translation):
        return {lang: Value("string") for lang in sorted(feature.languages)}
    if isinstance(feature, TranslationVariableLanguages):
        return {"language": List(Value("string")), "translation": List(Value("string"))}
    if isinstance(feature, Json):
        return Value("string")
    return feature


def feature_to_arrow(feature: FeatureType) -> pa.DataType:
    """Return the Arrow type of a (possibly nested) feature, as ``datasets`` builds it.

    Parameters
    ----------
    feature
        A feature, or a dict or list of features.

    Examples
    --------
    >>> feature_to_arrow({"a": Value("int8"), "b": [Value("string")]})
    StructType(struct<a: int8, b: list<item: string>>)
    """
    if isinstance(feature, dict):
        return pa.struct({key: feature_to_arrow(value) for key, value in feature.items()})
    if isinstance(feature, (list, tuple)):
        return feature_to_arrow(check_feature(feature))
    result: pa.DataType = feature.to_arrow()
    return result


def feature_to_polars(feature: FeatureType) -> pl.DataType:
    """Return the Polars dtype of a (possibly nested) feature.

    Parameters
    ----------
    feature
        A feature, or a dict or list of features.

    Examples
    --------
    >>> feature_to_polars({"label": ClassLabel(num_classes=2), "tags": List(Value("string"))})
    Struct({'label': Int64, 'tags': List(String)})
    """
    if isinstance(feature, dict):
        return pl.Struct({key: feature_to_polars(value) for key, value in feature.items()})
    if isinstance(feature, (list, tuple)):
        return feature_to_polars(check_feature(feature))
    result: pl.DataType = feature.to_polars()
    return result
