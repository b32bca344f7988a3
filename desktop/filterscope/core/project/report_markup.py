"""Small HTML builders for the run report: escaped text, inline pictures, tables
and lists in the markup both browsers and Qt's rich text engine lay out."""

from __future__ import annotations

import base64
from html import escape

SHOWN = 10  # files listed by name in a list of problems


def e(value: object) -> str:
    """Text made safe for HTML (quotes too: it may land in an attribute)."""
    return escape(str(value), quote=True)


def img(png: bytes, alt: str, width: int | None = None) -> str:
    """An ``<img>`` with the PNG inline."""
    size = f' width="{width}"' if width else ""
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" '
            f'alt="{e(alt)}"{size}>')


def table(header: list[str], rows: list[list[str]], numeric: frozenset[int] = frozenset(),
          widths: tuple[int, ...] = ()) -> str:
    """A bordered table; cells are HTML already, the header is text. ``widths`` (percentages of
    the page, one per column) fix a picture table's layout, which Qt would otherwise squeeze."""
    head = "".join(f'<th width="{w}%">{e(h)}</th>' if widths else f"<th>{e(h)}</th>"
                   for h, w in zip(header, widths or header))
    wide = ' width="100%"' if widths else ""
    body = "".join("<tr>" + "".join(f'<td class="n" align="right">{c}</td>' if i in numeric
                                    else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f'<table border="1" cellspacing="0" cellpadding="4"{wide}><tr>{head}</tr>{body}</table>'


def bullets(items: list[str]) -> str:
    """A list of HTML items, or nothing."""
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def files_list(found: list[dict], what: str) -> str:
    """One item naming how many files ``what`` (and the first SHOWN of them, with why)."""
    if not found:
        return ""
    named = "; ".join(f"{e(x['path'])}: {e(x['reason'])}" for x in found[:SHOWN])
    more = f"; and {len(found) - SHOWN:,} more" if len(found) > SHOWN else ""
    return f"{len(found):,} file(s) {e(what)}: {named}{more}"
