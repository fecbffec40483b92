"""Photos: sniff, limit, read GPS and time, orient, re-encode without metadata, store by content hash."""

from mapapp.photos import cleanup
from mapapp.photos.service import (
    GpsFix,
    InvalidPhoto,
    PhotoLimits,
    PhotoTooLarge,
    ProcessedPhoto,
    UnsupportedMediaType,
    process_photo,
)
from mapapp.photos.storage import LocalPhotoStorage, PhotoStorage, get_storage

__all__ = [
    "GpsFix",
    "InvalidPhoto",
    "LocalPhotoStorage",
    "PhotoLimits",
    "PhotoStorage",
    "PhotoTooLarge",
    "ProcessedPhoto",
    "UnsupportedMediaType",
    "cleanup",
    "get_storage",
    "process_photo",
]
