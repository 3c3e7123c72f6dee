"""The home page's "what to do next" cards. Each app registers a card with :func:`home_card` (in its
``AppConfig.ready``); a card sees the user and returns what to show, or None when it has nothing for
them. The foundation cannot import the apps above it, so the apps come to it.

A card is ``{"title", "items": [{"text", "url", "note"}], "empty", "links": [{"text", "url"}]}``:
items are the next actions (each with a link), ``empty`` what to say when there are none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Card = dict[str, Any]
CardSource = Callable[[Any], Card | None]

_CARDS: list[tuple[int, str, CardSource]] = []


def home_card(order: int) -> Callable[[CardSource], CardSource]:
    """Register a card source; cards show in ``order`` (lower first)."""

    def register(source: CardSource) -> CardSource:
        key = f"{source.__module__}.{source.__qualname__}"
        if all(existing != key for _, existing, _ in _CARDS):
            _CARDS.append((order, key, source))
            _CARDS.sort(key=lambda row: (row[0], row[1]))
        return source

    return register


def home_cards(user: Any) -> list[Card]:
    """The cards for ``user``, in order, leaving out those with nothing for them."""
    return [card for _, _, source in _CARDS if (card := source(user)) is not None]
