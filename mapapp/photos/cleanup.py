"""Removing image files no photo row refers to: what a failed transaction can leave behind.

A submission writes its files before its transaction commits, so a file no committed row names may be
about to be named. Two things keep cleanup from deleting it: a file younger than
`photo_orphan_grace_seconds` is never deleted, and writing a file that already exists (the same content,
perhaps a stray from long ago) refreshes its time, so it counts as young again.
"""

import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.settings import get_settings
from mapapp.photos.storage import get_storage

# Held by cleanup (for its transaction) and by `mapapp backup` (while it copies the files its snapshot names).
PHOTO_FILES_LOCK = 7_220_150_001


def remove_unreferenced(session: Session, *, older_than_seconds: int | None = None) -> int:
    """Delete stored files that no photo row names and that are older than the grace period."""
    grace = get_settings().photo_orphan_grace_seconds
    # Never below the grace: a submission between its file write and its commit must keep its files.
    older_than_seconds = max(grace, older_than_seconds if older_than_seconds is not None else grace)
    storage = get_storage()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PHOTO_FILES_LOCK})
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
        if storage.delete_if_older(key, cutoff):
            removed += 1
    return removed
