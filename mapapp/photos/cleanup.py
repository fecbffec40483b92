"""Removing image files no photo row refers to: what a failed transaction can leave behind."""

import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.photos.storage import LocalPhotoStorage, get_storage


def remove_unreferenced(session: Session, *, older_than_seconds: int = 3600) -> int:
    """Delete stored files that no photo row names and that are older than the grace period."""
    storage = get_storage()
    referenced = {
        key
        for (display, thumb) in session.execute(text("SELECT display_key, thumb_key FROM photos"))
        for key in (display, thumb)
    }
    cutoff = time.time() - older_than_seconds
    removed = 0
    for key in storage.stored_keys():
        if key in referenced:
            continue
        # A submission still in its transaction has written its files already: leave recent ones alone.
        if isinstance(storage, LocalPhotoStorage) and (storage.root / key).stat().st_mtime > cutoff:
            continue
        storage.delete(key)
        removed += 1
    return removed
