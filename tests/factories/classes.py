"""Class hierarchies the guard tests walk."""

from __future__ import annotations


def subclasses(root: type) -> set[type]:
    """``root`` and every class below it that is imported now."""
    found, todo = set(), [root]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.add(cls)
            todo.extend(cls.__subclasses__())
    return found
