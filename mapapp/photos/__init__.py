"""Photos: sniff, limit, read GPS and time, orient, re-encode without metadata, store by content hash."""

from mapapp.photos import cleanup
from mapapp.photos.budget import PhotoWorkBusy
from mapapp.photos.service import (
    GpsFix,
    InvalidPhoto,
    PhotoLimits,
    PhotoTooLarge,
    PreparedPhoto,
    ProcessedPhoto,
    UnsupportedMediaType,
    process_photo,
    process_uploads,
)
from mapapp.photos.storage import LocalPhotoStorage, PhotoStorage, get_storage

__all__ = [
    "GpsFix",
    "InvalidPhoto",
    "LocalPhotoStorage",
    "PhotoLimits",
    "PhotoStorage",
    "PhotoTooLarge",
    "PhotoWorkBusy",
    "PreparedPhoto",
    "ProcessedPhoto",
    "UnsupportedMediaType",
    "cleanup",
    "get_storage",
    "process_photo",
    "process_uploads",
]
