"""Campaign guidelines: Markdown written by an engineer, shown to reviewers as HTML.

Raw HTML in the text is shown as text (``html`` off), and links may only use safe schemes (markdown-it's
``validateLink`` refuses ``javascript:``, ``vbscript:``, ``file:`` and non-image ``data:``), so the
rendered guidelines can go into the page as they are.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def guidelines_html(text: str) -> str:
    """The HTML of ``text`` (Markdown), safe to put into a page; "" for no guidelines."""
    return _markdown().render(text) if text.strip() else ""
