"""Column types (``Features``) in HuggingFace ``datasets``' form, mapped to Arrow and Polars.

The feature types and their JSON form mirror ``datasets`` exactly, so features read from a
parquet file's ``huggingface`` schema metadata (or a ``dataset_info``) are the ones
``datasets`` reads, and files we write load in ``datasets`` with the same features.

Examples
--------
>>> import polars as pl
>>> from crucible_polars.features import ClassLabel, Features, List, Value, cast_lazyframe
>>> features = Features(
...     {"tokens": List(Value("string")), "label": ClassLabel(names=["neg", "pos"])}
... )
>>> features.to_polars()
Schema([('tokens', List(String)), ('label', Int64)])
>>> lf = pl.LazyFrame({"tokens": [["a", "b"]], "label": ["pos"]})
>>> cast_lazyframe(lf, features).collect().row(0)
(['a', 'b'], 1)
"""

from __future__ import annotations

from .arrays import Array2D, Array3D, Array4D, Array5D
from .cast import ExtraColumnsError, cast_arrow_table, cast_lazyframe, find_cast_error
from .class_label import ClassLabel
from .convert import feature_from_arrow_type, feature_from_polars
from .features import Features
from .media import Audio, Image
from .nested import (
    FeatureType,
    Json,
    LargeList,
    List,
    Sequence,
    Translation,
    TranslationVariableLanguages,
    feature_from_dict,
    feature_to_arrow,
    feature_to_dict,
    feature_to_polars,
)
from .value import Value

__all__ = [
    "Array2D",
    "Array3D",
    "Array4D",
    "Array5D",
    "Audio",
    "ClassLabel",
    "ExtraColumnsError",
    "FeatureType",
    "Features",
    "Image",
    "Json",
    "LargeList",
    "List",
    "Sequence",
    "Translation",
    "TranslationVariableLanguages",
    "Value",
    "cast_arrow_table",
    "cast_lazyframe",
    "feature_from_arrow_type",
    "feature_from_dict",
    "feature_from_polars",
    "feature_to_arrow",
    "feature_to_dict",
    "feature_to_polars",
    "find_cast_error",
]
