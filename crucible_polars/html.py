"""Notebook display: schema, a few rows, and small thumbnails for image columns.

Only the preview rows are read from the plan, and their images are turned into thumbnails
when the notebook asks for the HTML (in the decode threads; JPEGs at a reduced scale).
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from crucible_polars.errors import ImageDecodeError
from crucible_polars.features import ClassLabel, LargeList, List, Value
from crucible_polars.media.batch import run_chunked
from crucible_polars.media.decode import decode_thumbnail
from crucible_polars.plan import Plan

PREVIEW_ROWS = 5
THUMBNAIL_SIZE = (64, 64)
MAX_CELL_CHARS = 120


def thumbnail_html(value: dict[str, Any] | None, size: tuple[int, int] = THUMBNAIL_SIZE) -> str:
    """An ``<img>`` tag with a small PNG thumbnail of an image value.

    A value that cannot be decoded shows as *undecodable* (the reason in its tooltip).

    Examples
    --------
    >>> import PIL.Image
    >>> buf = io.BytesIO(); PIL.Image.new("RGB", (300, 200)).save(buf, format="PNG")
    >>> thumbnail_html({"bytes": buf.getvalue(), "path": None}).startswith("<img")
    True
    >>> thumbnail_html({"bytes": b"junk", "path": "x.png"})[:20]
    '<i title="Column &#x'
    """
    try:
        image = decode_thumbnail(value, size)
    except ImageDecodeError as err:
        return f'<i title="{html.escape(str(err))}">undecodable</i>'
    if image is None:
        return "None"
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-height:{size[1]}px"/>'


def _text(value: Any) -> str:
    """A value as short text: floats to 6 significant digits (as Polars prints them)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_text(v)}" for k, v in value.items()) + "}"
    return value if isinstance(value, str) else repr(value)


def _cell(value: Any, feature: Any = None) -> str:
    """One table cell: the value (a ClassLabel id with its name beside it), truncated."""
    text = _text(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    cell = html.escape(text)
    if isinstance(feature, ClassLabel) and isinstance(value, int):
        name = feature.names[value] if 0 <= value < feature.num_classes else None
        if name is not None and str(name) != str(value):
            cell += f' <span style="opacity:0.6">{html.escape(str(name))}</span>'
    return cell


def feature_label(feature: Any, width: int = 40) -> str:
    """A short type label for a column header (a 1,000-class ClassLabel is one line).

    Examples
    --------
    >>> from crucible_polars.features import ClassLabel, List, Value
    >>> feature_label(ClassLabel(num_classes=1000))
    'ClassLabel (1000 classes)'
    >>> feature_label(ClassLabel(names=["neg", "pos"]))
    'ClassLabel (neg, pos)'
    >>> feature_label(List(Value("float32")))
    'list[float32]'
    """
    if isinstance(feature, ClassLabel):
        shown = ", ".join(str(n) for n in feature.names)
        if feature.num_classes <= 5 and len(shown) <= width:
            return f"ClassLabel ({shown})"
        return f"ClassLabel ({feature.num_classes} classes)"
    if isinstance(feature, Value):
        return feature.dtype
    if isinstance(feature, (List, LargeList)):
        inner = feature_label(feature.feature, width)
        length = getattr(feature, "length", -1)
        return f"list[{inner}]" if length == -1 else f"array[{inner}, {length}]"
    text = "struct{" + ", ".join(feature) + "}" if isinstance(feature, dict) else repr(feature)
    return text if len(text) <= width else text[: width - 1] + "…"


def _align(feature: Any) -> str:
    numeric = isinstance(feature, ClassLabel) or (
        isinstance(feature, Value) and feature.dtype.startswith(("int", "uint", "float", "bool"))
    )
    return "right" if numeric else "left"


def rows_label(plan: Plan) -> str:
    """The row count for a repr: known or already counted, else counted when that cannot
    run a Python function; otherwise ``"?"`` (printing never runs a user's ``map``).

    Examples
    --------
    >>> import polars as pl
    >>> from crucible_polars.plan import Plan
    >>> rows_label(Plan.from_frame(pl.DataFrame({"a": [1, 2]})))
    '2'
    """
    known = plan.known_rows()
    if known is None and not plan.runs_python():
        known = plan.row_count()
    return "?" if known is None else str(known)


def dataset_html(plan: Plan, split: str | None, rows: int = PREVIEW_ROWS) -> str:
    """HTML for a notebook: shape, features and the first rows (only those rows are read).

    Examples
    --------
    >>> import polars as pl
    >>> from crucible_polars.plan import Plan
    >>> "<table" in dataset_html(Plan.from_frame(pl.DataFrame({"a": [1, 2]})), "train")
    True
    """
    features = plan.features
    names = list(features)
    image_columns = [c for c in features.image_columns() if c in features]
    head = plan.collect(plan.lf.head(rows))
    cells: dict[str, list[str]] = {
        name: [_cell(v, features[name]) for v in head[name].to_list()]
        for name in names
        if name not in image_columns
    }
    for name in image_columns:
        values = head[name].to_list()

        def thumbnails(start: int, stop: int, values: list[Any] = values) -> list[str]:
            return [thumbnail_html(v) for v in values[start:stop]]

        cells[name] = [cell for chunk in run_chunked(len(values), thumbnails) for cell in chunk]
    style = "vertical-align:top;white-space:pre-wrap;max-width:32em"
    header = "".join(
        f'<th style="text-align:{_align(features[name])}">{html.escape(name)}<br/>'
        f'<small style="font-weight:normal;opacity:0.7">'
        f"{html.escape(feature_label(features[name]))}</small></th>"
        for name in names
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:{_align(features[name])};{style}">{cells[name][i]}</td>'
            for name in names
        )
        + "</tr>"
        for i in range(head.height)
    )
    label = f" split={html.escape(split)!r}" if split else ""
    total = rows_label(plan)
    count = f"{int(total):,}" if total != "?" else total
    shown_all = total != "?" and int(total) <= head.height
    more = "" if shown_all else f'<tr><td colspan="{len(names)}">…</td></tr>'
    return (
        f"<div><b>Dataset</b>{label} · shape: ({count}, {len(names)})"
        f'<table class="dataframe"><thead><tr>{header}</tr></thead>'
        f"<tbody>{body}{more}</tbody></table></div>"
    )
