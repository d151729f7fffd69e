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


def _cell(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return html.escape(text)


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
        name: [_cell(v) for v in head[name].to_list()]
        for name in names
        if name not in image_columns
    }
    for name in image_columns:
        values = head[name].to_list()

        def thumbnails(start: int, stop: int, values: list[Any] = values) -> list[str]:
            return [thumbnail_html(v) for v in values[start:stop]]

        cells[name] = [cell for chunk in run_chunked(len(values), thumbnails) for cell in chunk]
    header = "".join(
        f"<th>{html.escape(name)}<br/><small>{html.escape(repr(features[name]))}</small></th>"
        for name in names
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{cells[name][i]}</td>" for name in names) + "</tr>"
        for i in range(head.height)
    )
    label = f" split={html.escape(split)!r}" if split else ""
    count = rows_label(plan)
    count = f"{int(count):,}" if count != "?" else count
    return (
        f"<div><b>Dataset</b>{label} · {count} rows × {len(names)} columns"
        f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
    )
