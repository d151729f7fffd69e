"""``Features``: the column types of a dataset, convertible to and from Arrow, Polars and JSON.

Examples
--------
>>> from crucible_polars.features import ClassLabel, Features, Value
>>> features = Features(
...     {"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])}
... )
>>> features.to_polars()
Schema([('text', String), ('label', Int64)])
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa

from .card import features_from_yaml, features_to_yaml
from .convert import (
    arrow_types_match,
    feature_from_arrow_field,
    feature_from_polars,
    read_huggingface_metadata,
)
from .encode import encode_nested_example, reorder_fields
from .media import Image
from .nested import (
    FeatureType,
    Translation,
    TranslationVariableLanguages,
    check_feature,
    feature_from_dict,
    feature_to_arrow,
    feature_to_dict,
    feature_to_polars,
)

__all__ = ["Features"]


class Features(dict[str, FeatureType]):
    """The column types of a dataset: a ``dict`` of column name to feature type.

    The JSON form (:meth:`to_dict`), the Arrow schema and its ``huggingface`` metadata
    (:meth:`to_arrow_schema`) are the ones ``datasets`` writes and reads, so parquet files
    and ``dataset_info`` move between the two libraries without loss.

    Parameters
    ----------
    *args, **kwargs
        As for ``dict``. A legacy ``[feature]`` value becomes ``List(feature)``.

    Examples
    --------
    >>> from crucible_polars.features import List, Value
    >>> Features({"tokens": [Value("string")]})
    Features({'tokens': List(Value('string'))})
    >>> Features(a=Value("int8")) == Features({"a": Value("int8")})
    True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, feature in list(self.items()):
            dict.__setitem__(self, name, check_feature(feature))

    def __setitem__(self, name: str, feature: FeatureType) -> None:
        super().__setitem__(name, check_feature(feature))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update from a mapping or pairs, checking every feature (as ``dict.update``).

        Parameters
        ----------
        *args, **kwargs
            As ``dict.update``: a mapping or ``(name, feature)`` pairs, and ``name=feature``.

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> features = Features({"a": Value("int64")})
        >>> features.update(b=Value("string"))
        >>> features
        Features({'a': Value('int64'), 'b': Value('string')})
        """
        for name, feature in dict(*args, **kwargs).items():
            self[name] = feature

    def setdefault(self, key: str, default: Any = None) -> FeatureType:
        """As ``dict.setdefault``, checking the feature.

        Parameters
        ----------
        key, default
            The column, and its feature, set when the column is not there yet.

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> features = Features({"a": Value("int64")})
        >>> features.setdefault("a", Value("string")), features.setdefault("b", Value("bool"))
        (Value('int64'), Value('bool'))
        """
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self) -> tuple[Any, ...]:
        return Features, (dict(self),)

    def __repr__(self) -> str:
        items = [f"{name!r}: {feature!r}" for name, feature in self.items()]
        one_line = "Features({" + ", ".join(items) + "})"
        if len(one_line) <= 88:
            return one_line
        return "Features({\n" + "".join(f"    {item},\n" for item in items) + "})"

    def copy(self) -> Features:
        """Return a deep copy.

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> features = Features({"a": Value("int8")})
        >>> features.copy() == features
        True
        """
        return copy.deepcopy(self)

    # -- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the ``datasets`` JSON form (with ``_type`` keys).

        Returns
        -------
        dict

        Examples
        --------
        >>> from crucible_polars.features import ClassLabel, Value
        >>> Features({"label": ClassLabel(names=["a", "b"]), "x": Value("float32")}).to_dict()
        {'label': {'names': ['a', 'b'], '_type': 'ClassLabel'},
         'x': {'dtype': 'float32', '_type': 'Value'}}
        """
        result: dict[str, Any] = feature_to_dict(dict(self))
        return result

    @classmethod
    def from_dict(cls, dic: Mapping[str, Any]) -> Features:
        """Build features from the ``datasets`` JSON form.

        Parameters
        ----------
        dic
            Column name to feature JSON, as ``to_dict`` (or ``datasets``) writes it. Legacy
            ``"_type": "Sequence"`` entries are read as ``datasets`` reads them.

        Returns
        -------
        Features

        Examples
        --------
        >>> Features.from_dict({"a": {"dtype": "string", "_type": "Value"}})
        Features({'a': Value('string')})
        """
        features = feature_from_dict(dict(dic))
        if not isinstance(features, dict):
            raise ValueError(f"Expected a dict of column features, got {dic!r}")
        return cls(features)

    @classmethod
    def from_yaml(cls, yaml_data: list[Any]) -> Features:
        """Build features from a dataset card's ``dataset_info: features:`` YAML list.

        Parameters
        ----------
        yaml_data
            The parsed YAML list, as ``datasets`` writes it in README.md.

        Returns
        -------
        Features

        Examples
        --------
        >>> Features.from_yaml([
        ...     {"name": "text", "dtype": "string"},
        ...     {"name": "label", "dtype": {"class_label": {"names": {"0": "neg", "1": "pos"}}}},
        ... ])
        Features({'text': Value('string'), 'label': ClassLabel(names=['neg', 'pos'])})
        """
        if not isinstance(yaml_data, list):
            raise TypeError(f"Expected the YAML features list, got {type(yaml_data)}")
        return cls.from_dict(features_from_yaml(yaml_data))

    def to_yaml(self) -> list[dict[str, Any]]:
        """Return the dataset-card YAML list form (what ``datasets`` writes in README.md).

        Examples
        --------
        >>> from crucible_polars.features import List, Value
        >>> Features({"tokens": List(Value("string"))}).to_yaml()
        [{'name': 'tokens', 'list': 'string'}]
        """
        return features_to_yaml(self.to_dict())

    # -- Arrow ----------------------------------------------------------------------------

    def huggingface_metadata(self) -> dict[str, str]:
        """Return the schema metadata ``datasets`` writes: ``{"huggingface": json}``.

        Pass it as key-value metadata when writing parquet with pyarrow.

        Returns
        -------
        dict of str to str

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> Features({"a": Value("int8")}).huggingface_metadata()
        {'huggingface': '{"info": {"features": {"a": {"dtype": "int8", "_type": "Value"}}}}'}
        """
        return {"huggingface": json.dumps({"info": {"features": self.to_dict()}})}

    @property
    def type(self) -> pa.StructType:
        """The Arrow struct type of one row (as ``datasets.Features.type``).

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> Features({"a": Value("int8")}).type
        StructType(struct<a: int8>)
        """
        return pa.struct({name: feature_to_arrow(feature) for name, feature in self.items()})

    def to_arrow_schema(self) -> pa.Schema:
        """Return the Arrow schema with the ``huggingface`` metadata, as ``datasets`` writes it.

        Returns
        -------
        pyarrow.Schema

        Examples
        --------
        >>> from crucible_polars.features import ClassLabel, Value
        >>> features = Features({"text": Value("string"), "label": ClassLabel(num_classes=2)})
        >>> schema = features.to_arrow_schema()
        >>> schema.names, schema.field("label").type
        (['text', 'label'], DataType(int64))
        >>> list(schema.metadata)
        [b'huggingface']
        """
        return pa.schema(list(self.type)).with_metadata(self.huggingface_metadata())

    @property
    def arrow_schema(self) -> pa.Schema:
        """Alias of :meth:`to_arrow_schema` (the ``datasets`` spelling).

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> Features({"a": Value("int64")}).arrow_schema.names
        ['a']
        """
        return self.to_arrow_schema()

    @classmethod
    def from_arrow(cls, pa_schema: pa.Schema) -> Features:
        """Build features from an Arrow schema, e.g. ``pyarrow.parquet.read_schema(path)``.

        A column's feature comes from the schema's ``huggingface`` metadata when the column
        has exactly that feature's Arrow type; otherwise it is inferred from the Arrow type,
        as ``datasets.Features.from_arrow_schema`` does.

        Parameters
        ----------
        pa_schema
            The Arrow schema (``datasets``' name for it).

        Returns
        -------
        Features

        Examples
        --------
        >>> import pyarrow as pa
        >>> from crucible_polars.features import ClassLabel, Value
        >>> features = Features({"label": ClassLabel(names=["a", "b"])})
        >>> Features.from_arrow(features.to_arrow_schema())
        Features({'label': ClassLabel(names=['a', 'b'])})
        >>> Features.from_arrow(pa.schema({"x": pa.list_(pa.int64())}))
        Features({'x': List(Value('int64'))})
        """
        stored = read_huggingface_metadata(pa_schema.metadata)
        result = {}
        for arrow_field in pa_schema:
            feature = stored.get(arrow_field.name)
            if feature is None or not arrow_types_match(feature, arrow_field):
                feature = feature_from_arrow_field(arrow_field)
            result[arrow_field.name] = feature
        return cls(result)

    from_arrow_schema = from_arrow

    # -- Polars ---------------------------------------------------------------------------

    def to_polars(self) -> pl.Schema:
        """Return the Polars schema of the columns.

        ``ClassLabel`` is ``Int64``, ``Image``/``Audio`` ``Struct({'bytes': Binary, 'path':
        String})``, ``List(x, length=n)`` and ``Array2D``.. are ``pl.Array``.

        Returns
        -------
        polars.Schema

        Examples
        --------
        >>> from crucible_polars.features import Array2D, Image
        >>> Features({"img": Image(), "m": Array2D(shape=(2, 2), dtype="float32")}).to_polars()
        Schema([('img', Struct({'bytes': Binary, 'path': String})),
                ('m', Array(Float32, shape=(2, 2)))])
        """
        return pl.Schema({name: feature_to_polars(feature) for name, feature in self.items()})

    @classmethod
    def from_polars(cls, schema: Mapping[str, pl.DataType] | Iterable[tuple[str, Any]]) -> Features:
        """Infer features from a Polars schema (``lf.collect_schema()``).

        Parameters
        ----------
        schema
            A ``pl.Schema`` or any mapping of column name to Polars dtype.

        Returns
        -------
        Features

        Examples
        --------
        >>> import polars as pl
        >>> Features.from_polars(pl.Schema({"text": pl.String, "day": pl.Date}))
        Features({'text': Value('string'), 'day': Value('date32')})
        """
        items = schema.items() if isinstance(schema, Mapping) else schema
        result = {}
        for name, dtype in items:
            instance = dtype() if isinstance(dtype, type) else dtype
            result[name] = feature_from_polars(instance)
        return cls(result)

    # -- helpers --------------------------------------------------------------------------

    def image_columns(self) -> list[str]:
        """Return the top-level columns whose feature is ``Image``.

        Examples
        --------
        >>> from crucible_polars.features import Image, Value
        >>> Features({"img": Image(), "label": Value("int64")}).image_columns()
        ['img']
        """
        return [name for name, feature in self.items() if isinstance(feature, Image)]

    def flatten(self, max_depth: int = 16) -> Features:
        """Replace every dict column by one column per sub-field, named ``column.field``.

        Nested dicts are flattened too (up to ``max_depth`` levels), as
        ``datasets.Features.flatten`` does; the new columns take the place of the old one.

        Parameters
        ----------
        max_depth
            How many levels of nested dicts to flatten.

        Returns
        -------
        Features

        Examples
        --------
        >>> from crucible_polars.features import List, Value
        >>> answers = {"text": List(Value("string")), "start": List(Value("int32"))}
        >>> Features({"answers": answers, "id": Value("string")}).flatten()
        Features({
            'answers.text': List(Value('string')),
            'answers.start': List(Value('int32')),
            'id': Value('string'),
        })
        """
        current: dict[str, FeatureType] = dict(self)
        for _ in range(1, max_depth):
            changed = False
            flattened: dict[str, FeatureType] = {}
            for name, feature in current.items():
                sub: dict[str, FeatureType] | None = None
                if isinstance(feature, dict):
                    sub = feature
                elif isinstance(feature, (Translation, TranslationVariableLanguages)):
                    sub = feature.flatten()
                if sub is None:
                    flattened[name] = feature
                else:
                    changed = True
                    for key, value in sub.items():
                        flattened[f"{name}.{key}"] = value
            current = flattened
            if not changed:
                break
        return Features(copy.deepcopy(current))

    # -- encoding -------------------------------------------------------------------------

    def encode_example(self, example: Mapping[str, Any]) -> dict[str, Any]:
        """Encode one row as ``datasets`` stores it (ClassLabel names to ids, images to
        ``{bytes, path}``, values cast and checked).

        Parameters
        ----------
        example
            The row, ``{column: value}``.

        Examples
        --------
        >>> from crucible_polars.features import ClassLabel, Value
        >>> features = Features({"label": ClassLabel(names=["neg", "pos"]), "n": Value("int32")})
        >>> features.encode_example({"label": "pos", "n": "3"})
        {'label': 1, 'n': 3}
        """
        result: dict[str, Any] = encode_nested_example(dict(self), dict(example))
        return result

    def encode_column(self, column: Sequence[Any], column_name: str) -> list[Any]:
        """Encode the values of one column.

        Parameters
        ----------
        column
            The column's values.
        column_name
            The column, whose feature encodes them.

        Examples
        --------
        >>> from crucible_polars.features import ClassLabel
        >>> Features({"label": ClassLabel(names=["a", "b"])}).encode_column(["b", 0], "label")
        [1, 0]
        """
        feature = self[column_name]
        return [encode_nested_example(feature, value) for value in column]

    def encode_batch(self, batch: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        """Encode a batch ``{column: values}``; its columns must be exactly these features'.

        Parameters
        ----------
        batch
            ``{column: values}``, one entry per feature.

        Examples
        --------
        >>> from crucible_polars.features import ClassLabel
        >>> Features({"label": ClassLabel(names=["a", "b"])}).encode_batch({"label": ["b"]})
        {'label': [1]}
        """
        if set(batch) != set(self):
            raise ValueError(f"Column mismatch between batch {set(batch)} and features {set(self)}")
        return {name: self.encode_column(values, name) for name, values in batch.items()}

    def reorder_fields_as(self, other: Features) -> Features:
        """These features with struct fields in the order of ``other``'s (as ``datasets``).

        Parameters
        ----------
        other
            Features of the same structure, whose field order to take.

        Raises
        ------
        ValueError
            When the two do not have the same structure.

        Examples
        --------
        >>> from crucible_polars.features import Value
        >>> f1 = Features({"root": {"a": Value("string"), "b": Value("string")}})
        >>> f2 = Features({"root": {"b": Value("string"), "a": Value("string")}})
        >>> f1.reorder_fields_as(f2)
        Features({'root': {'b': Value('string'), 'a': Value('string')}})
        """
        return Features(reorder_fields(dict(self), dict(other)))
