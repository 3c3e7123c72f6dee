"""What the apps above tell about a generator version on the versions page. Each registers a source
with :func:`version_note_source` (in its ``AppConfig.ready``); the page asks every source about the
versions it lists. Generation cannot import the apps above it, so they come to it (as the home page's
cards come to ``hfplatform.home``).

A source takes the version names and returns ``{name: [note, ...]}``; a note is ``{"label", "title",
"url", "text"}``, shown as "label: title (linked) text".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Note = dict[str, Any]
NoteSource = Callable[[list[str]], dict[str, list[Note]]]

_SOURCES: dict[str, NoteSource] = {}


def version_note_source(source: NoteSource) -> NoteSource:
    """Register ``source`` (once, however often its module is imported)."""
    _SOURCES[f"{source.__module__}.{source.__qualname__}"] = source
    return source


def version_notes(names: list[str]) -> dict[str, list[Note]]:
    """Every source's notes for each of ``names``, sources in registration order."""
    notes: dict[str, list[Note]] = {name: [] for name in names}
    for source in _SOURCES.values():
        for name, found in source(names).items():
            notes.setdefault(name, []).extend(found)
    return notes
