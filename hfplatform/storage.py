"""Storage helpers that work on any Django storage backend (local folder or object store)."""

from __future__ import annotations

import os

from django.core.files.storage import Storage, default_storage


def storage_delete_tree(folder: str, storage: Storage | None = None) -> int:
    """Delete every file under ``folder`` (and, on a local disk, the emptied folders).
    Returns the number of files deleted."""
    storage = storage or default_storage
    folder = folder.strip("/")
    if not folder:
        raise ValueError("refusing to delete the whole storage")
    try:
        dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    deleted = 0
    for name in files:
        storage.delete(f"{folder}/{name}")
        deleted += 1
    for name in dirs:
        deleted += storage_delete_tree(f"{folder}/{name}", storage)
    try:
        local = storage.path(folder)
    except NotImplementedError:
        return deleted  # object stores have no folders to remove
    if os.path.isdir(local) and not os.listdir(local):
        os.rmdir(local)
    return deleted
