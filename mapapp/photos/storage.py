"""Where public images live: behind an interface, written atomically, named by content hash."""

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mapapp.core.settings import get_settings

if TYPE_CHECKING:
    from mapapp.photos.s3 import S3PhotoStorage


class PhotoStorage(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`; storing the same key twice is harmless."""

    def delete(self, key: str) -> None:
        """Remove `key` if present."""

    def delete_if_older(self, key: str, cutoff: float) -> bool:
        """Remove `key` unless it was written or refreshed after `cutoff` (a Unix time); True if removed."""

    def stored_keys(self) -> list[str]:
        """Every stored key (for the cleanup of unreferenced files)."""

    def get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None when absent."""

    def url(self, key: str) -> str:
        """The public URL path of `key`."""


class LocalPhotoStorage:
    """A directory on local disk, served under /media."""

    def __init__(self, root: Path, url_prefix: str = "/media") -> None:
        self.root = root
        self.url_prefix = url_prefix.rstrip("/")

    def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        try:
            # Content-addressed: same name, same bytes. Refresh its time, so that cleanup sees it as
            # just written and leaves it to the transaction about to name it.
            os.utime(path)
            return
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def delete_if_older(self, key: str, cutoff: float) -> bool:
        path = self.root / key
        try:
            if path.stat().st_mtime > cutoff:
                return False
            # Moved aside first: a put that refreshed the file before the move shows in its time (and
            # the file goes back); a put after it finds no file and writes a new one.
            aside = path.with_name(f".del-{path.name}")
            os.replace(path, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime > cutoff:
            os.replace(aside, path)
            return False
        aside.unlink(missing_ok=True)
        return True

    def stored_keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return [
            str(p.relative_to(self.root)) for p in self.root.rglob("*.jpg") if not p.name.startswith((".tmp-", ".del-"))
        ]

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None

    def url(self, key: str) -> str:
        return f"{self.url_prefix}/{key}"


@lru_cache
def _storage(root: str) -> LocalPhotoStorage:
    return LocalPhotoStorage(Path(root))


@lru_cache
def _s3_storage(endpoint_url: str, region: str, bucket: str) -> "S3PhotoStorage":
    from mapapp.photos.s3 import S3PhotoStorage, make_client

    return S3PhotoStorage(make_client(endpoint_url=endpoint_url, region=region), bucket)


def get_storage() -> PhotoStorage:
    """The configured storage: a local directory (MAPAPP_MEDIA_DIR) or a bucket (MAPAPP_PHOTO_STORAGE=s3)."""
    settings = get_settings()
    if settings.photo_storage == "s3":
        return _s3_storage(settings.s3_endpoint_url, settings.s3_region, settings.s3_bucket)
    return _storage(str(settings.media_dir))
