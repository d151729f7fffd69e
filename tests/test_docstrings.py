"""Every public function and method documents its parameters and shows an example (issue 9, item 6).

As Polars' ``scan_parquet`` does: a ``Parameters`` section naming each parameter of the signature
(``*args`` / ``**kwargs`` included) and an ``Examples`` section with a ``>>>`` line. Properties
need no ``Parameters``; methods inherited from ``dict`` are exempt.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections.abc import Callable, Iterator
from typing import Any

import crucible_polars as cp

MODULES = [
    "crucible_polars",
    "crucible_polars.hub",
    "crucible_polars.cache",
    "crucible_polars.catalog",
    "crucible_polars.errors",
    "crucible_polars.features",
    "crucible_polars.streaming",
]
CLASSES = [cp.Dataset, cp.DatasetDict, cp.IterableDataset, cp.IterableDatasetDict, cp.Features]

_SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.MULTILINE)


def _sections(doc: str) -> dict[str, str]:
    """Map each numpydoc section title to its body."""
    doc = inspect.cleandoc(doc)
    found = list(_SECTION.finditer(doc))
    out: dict[str, str] = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(doc)
        out[m.group(1).strip()] = doc[m.end() : end]
    return out


def _documented_names(body: str) -> set[str]:
    """Names introduced by the lines of a Parameters section (``a, b : type`` names both)."""
    names: set[str] = set()
    for line in body.splitlines():
        if not line or line[0].isspace():
            continue
        head = line.split(":", 1)[0]
        for part in head.split(","):
            part = part.strip()
            if part:
                names.add(part)
    return names


def _required(fn: Callable[..., Any]) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    names = []
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and p.name in ("self", "cls"):
            continue
        if p.kind is p.VAR_POSITIONAL:
            names.append("*" + p.name)
        elif p.kind is p.VAR_KEYWORD:
            names.append("**" + p.name)
        else:
            names.append(p.name)
    return names


def _problems(label: str, obj: Any, *, is_property: bool = False) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    sections = _sections(doc)
    problems = []
    if not is_property:
        params = _required(obj)
        if params:
            documented = _documented_names(sections.get("Parameters", ""))
            missing = [p for p in params if p not in documented]
            if "Parameters" not in sections:
                problems.append(f"{label}: no Parameters section (needs {', '.join(params)})")
            elif missing:
                problems.append(f"{label}: Parameters misses {', '.join(missing)}")
    if ">>>" not in sections.get("Examples", ""):
        problems.append(f"{label}: no Examples section with >>>")
    return problems


def _public_objects() -> Iterator[tuple[str, Any, bool]]:
    seen: set[int] = set()
    for modname in MODULES:
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or id(obj) in seen:
                continue
            seen.add(id(obj))
            # functions and classes; a type alias (``FeatureType``, a Union) has no docstring
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{modname}.{name}", obj, False
    for cls in CLASSES:
        for name in dir(cls):
            if name.startswith("_"):
                continue
            owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
            if owner in (dict, object) or owner is None:
                continue
            raw = owner.__dict__[name]
            label = f"{cls.__name__}.{name}"
            if isinstance(raw, property | types.GetSetDescriptorType | types.MemberDescriptorType):
                yield label, raw, True
                continue
            if isinstance(raw, staticmethod | classmethod):
                raw = raw.__func__
            if not callable(raw):
                continue
            yield label, raw, False


def test_public_api_documents_parameters_and_examples() -> None:
    offenders: list[str] = []
    for label, obj, is_property in _public_objects():
        if inspect.isclass(obj):
            # a class documents its constructor's parameters (its own ``__init__`` or one
            # inherited from a class of ours) in its docstring or its ``__init__``'s
            owner = next((k for k in obj.__mro__ if "__init__" in vars(k)), object)
            ours = owner.__module__.startswith("crucible_polars")
            init = owner.__dict__["__init__"] if ours else None
            problems = _problems(label, obj, is_property=True)
            if init is not None and _required(init):
                doc_sections = _sections(inspect.getdoc(obj) or "")
                documented = _documented_names(doc_sections.get("Parameters", ""))
                init_doc = _sections(inspect.getdoc(init) or "")
                documented |= _documented_names(init_doc.get("Parameters", ""))
                missing = [p for p in _required(init) if p not in documented]
                if missing:
                    problems.append(f"{label}: Parameters misses {', '.join(missing)}")
            offenders += problems
        else:
            offenders += _problems(label, obj, is_property=is_property)
    assert not offenders, f"{len(offenders)} offenders:\n" + "\n".join(offenders)
