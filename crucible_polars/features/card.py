"""The YAML form of features used in dataset cards (``dataset_info: features:`` in README.md).

This is the feature half of the dataset card: :mod:`crucible_polars.resolve.card` reads the
card's front matter (through ``huggingface_hub.DatasetCard``) and hands the features YAML here.
It is the list form ``datasets`` writes with ``Features._to_yaml_list`` and reads with
``Features._from_yaml_list``::

    - name: text
      dtype: string
    - name: label
      dtype:
        class_label:
          names:
            '0': neg
            '1': pos

Examples
--------
>>> features_to_yaml({"label": {"names": ["neg", "pos"], "_type": "ClassLabel"}})
[{'name': 'label', 'dtype': {'class_label': {'names': {'0': 'neg', '1': 'pos'}}}}]
"""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from .value import Value

__all__ = ["features_from_yaml", "features_to_yaml"]

_LIST_TYPES = ("large_list", "list", "sequence")


def _camel_to_snake(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return name.lower()


def _snake_to_camel(name: str) -> str:
    parts = [re.split(r"(_{2,})", n) for n in re.split(r"(?<!_)_(?!_)", name)]
    return "".join(n.capitalize() for n in itertools.chain.from_iterable(parts) if n != "")


def _simplify(feature: dict[str, Any]) -> dict[str, Any]:
    for list_type in _LIST_TYPES:
        inner = feature.get(list_type)
        if isinstance(inner, dict) and list(inner) == ["dtype"]:
            feature[list_type] = inner["dtype"]
        inner = feature.get(list_type)
        if isinstance(inner, dict) and list(inner) == ["struct"]:
            feature[list_type] = inner["struct"]
    label = feature.get("class_label")
    if isinstance(label, dict) and isinstance(label.get("names"), list):
        label["names"] = {str(i): name for i, name in enumerate(label["names"])}
    return feature


def _to_yaml_inner(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        type_name = obj.pop("_type", None)
        if type_name == "LargeList":
            inner = obj.pop("feature")
            return _simplify({"large_list": _to_yaml_inner(inner), **obj})
        if type_name == "List":
            inner = obj.pop("feature")
            return _simplify({"list": _to_yaml_inner(inner), **obj})
        if type_name == "Value":
            return obj
        if type_name and not obj:
            return {"dtype": _camel_to_snake(type_name)}
        if type_name:
            return {"dtype": _simplify({_camel_to_snake(type_name): obj})}
        return {"struct": [{"name": name, **_to_yaml_inner(sub)} for name, sub in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return _simplify({"list": _simplify(_to_yaml_inner(next(iter(obj))))})
    raise TypeError(f"Expected a dict or a list but got {type(obj)}: {obj}")


def _to_yaml_types(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_yaml_types(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_yaml_types(v) for v in obj]
    return obj


def features_to_yaml(features_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Convert the JSON form of features (``Features.to_dict()``) to the dataset-card YAML list.

    Examples
    --------
    >>> tokens = {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"}
    >>> features_to_yaml({"tokens": tokens})
    [{'name': 'tokens', 'list': 'string'}]
    """
    data = copy.deepcopy(features_dict)
    result: list[dict[str, Any]] = _to_yaml_types(_to_yaml_inner(data)["struct"])
    return result


def _unsimplify(feature: Any) -> dict[str, Any]:
    if not isinstance(feature, dict):
        raise TypeError(f"Expected a dict but got a {type(feature)}: {feature}")
    for list_type in _LIST_TYPES:
        if isinstance(feature.get(list_type), str):
            feature[list_type] = {"dtype": feature[list_type]}
    label = feature.get("class_label")
    if isinstance(label, dict) and isinstance(label.get("names"), dict):
        label_ids = sorted(label["names"], key=int)
        if label_ids and [int(i) for i in label_ids] != list(range(int(label_ids[-1]) + 1)):
            raise ValueError(
                f"ClassLabel expected a value for all label ids [0:{int(label_ids[-1]) + 1}] "
                "but some ids are missing."
            )
        label["names"] = [label["names"][i] for i in label_ids]
    return feature


def _from_yaml_inner(obj: Any) -> Any:
    if isinstance(obj, dict):
        if not obj:
            return {}
        type_name = next(iter(obj))
        if type_name == "large_list":
            inner = _from_yaml_inner(_unsimplify(obj).pop(type_name))
            return {"feature": inner, **obj, "_type": "LargeList"}
        if type_name == "sequence":
            if isinstance(obj[type_name], list):
                inner = _from_yaml_inner(_unsimplify(obj).pop(type_name))
                return {
                    name: {"feature": sub, **obj, "_type": "List"} for name, sub in inner.items()
                }
            inner = _from_yaml_inner(_unsimplify(obj).pop(type_name))
            return {"feature": inner, **obj, "_type": "List"}
        if type_name == "list":
            inner = _from_yaml_inner(_unsimplify(obj).pop(type_name))
            return {"feature": inner, **obj, "_type": "List"}
        if type_name == "struct":
            return _from_yaml_inner(obj["struct"])
        if type_name == "dtype":
            if isinstance(obj["dtype"], str):
                try:
                    Value(obj["dtype"])
                    return {**obj, "_type": "Value"}
                except ValueError:
                    return {"_type": _snake_to_camel(obj["dtype"])}
            return _from_yaml_inner(obj["dtype"])
        return {"_type": _snake_to_camel(type_name), **_unsimplify(obj)[type_name]}
    if isinstance(obj, list):
        names = [sub.pop("name") for sub in obj]
        return {name: _from_yaml_inner(sub) for name, sub in zip(names, obj, strict=True)}
    raise TypeError(f"Expected a dict or a list but got {type(obj)}: {obj}")


def features_from_yaml(yaml_data: list[Any]) -> dict[str, Any]:
    """Convert a dataset-card YAML features list to the JSON form (``Features.from_dict`` input).

    Examples
    --------
    >>> features_from_yaml([{"name": "text", "dtype": "string"}])
    {'text': {'dtype': 'string', '_type': 'Value'}}
    """
    result: dict[str, Any] = _from_yaml_inner(copy.deepcopy(list(yaml_data)))
    return result
