"""Reading board pages as a person does: the words shown, a board row, the rows listed."""

from __future__ import annotations

import html
import re


def text(fragment: str) -> str:
    """The words a person reads in an HTML fragment."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row(page: str, number: int) -> str:
    start = page.index(f'<tr id="rec-{number}"')
    return text(page[start : page.index("</tr>", start)])


def numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="rec-([0-9]+)"', page)]
