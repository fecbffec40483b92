"""The photo pipeline, in the order that keeps it safe and cheap.

sniff the real type → check bytes and pixel limits from the header → read GPS and time →
decode at the scale needed (JPEG draft) → orient → convert to sRGB → re-encode a display image and a
thumbnail with no metadata at all.
"""

import hashlib
import io
import math
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import filetype
import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from mapapp.core.errors import DomainError, InvalidInput
from mapapp.core.settings import get_settings

pillow_heif.register_heif_opener()
# Pillow's own bomb check would raise only at twice its default; ours is checked before decoding.
Image.MAX_IMAGE_PIXELS = None

ACCEPTED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF", "image/heif": "HEIF"}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
SRGB = ImageCms.createProfile("sRGB")


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415


class PhotoTooLarge(DomainError):
    code = "photo_too_large"
    status = 413


class InvalidPhoto(InvalidInput):
    code = "invalid_photo"


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int
    min_side: int
    display_size: int
    thumbnail_size: int
    jpeg_quality: int

    @classmethod
    def from_settings(cls) -> "PhotoLimits":
        s = get_settings()
        return cls(
            s.photo_max_bytes,
            s.photo_max_pixels,
            s.photo_min_side,
            s.photo_display_size,
            s.photo_thumbnail_size,
            s.photo_jpeg_quality,
        )


@dataclass(frozen=True)
class GpsFix:
    lat: float
    lon: float
    alt: float | None = None


@dataclass(frozen=True)
class ProcessedPhoto:
    display: bytes
    thumbnail: bytes
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    media_type: str
    original_bytes: int
    original_sha256: str
    gps: GpsFix | None
    gps_note: str | None  # why GPS present in the file was not used, for staff
    taken_at: datetime | None  # camera-local time, as the camera wrote it
    display_key: str  # content-addressed names of the two images
    thumbnail_key: str


def _key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest}.jpg"


def sniff(data: bytes) -> str:
    """The media type from the bytes themselves; anything but JPEG, PNG, WebP or HEIC/HEIF is refused."""
    kind = filetype.guess_mime(data[:8192])
    if kind not in ACCEPTED:
        shown = kind or "not an image"
        raise UnsupportedMediaType(f"photos must be JPEG, PNG, WebP or HEIC; this file is {shown}", media_type=kind)
    return kind


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return str(value or "").strip("\x00 ").upper()


def _degrees(value: Any) -> float:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan
    return d + m / 60 + s / 3600


def read_gps(exif: Image.Exif) -> tuple[GpsFix | None, str | None]:
    """The photo's GPS position, or None with a note saying why a GPS block was not usable."""
    try:
        gps = exif.get_ifd(GPS_IFD)
    except Exception:  # a malformed IFD must not fail the photo
        return None, "the GPS block cannot be read"
    if not gps:
        return None, None
    if 2 not in gps or 4 not in gps:
        return None, "the GPS block has no coordinates"
    lat_ref, lon_ref = _text(gps.get(1)), _text(gps.get(3))
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None, "the GPS coordinates have no N/S or E/W reference"
    lat, lon = _degrees(gps[2]), _degrees(gps[4])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None, "the GPS coordinates are not numbers"
    lat, lon = (-lat if lat_ref == "S" else lat), (-lon if lon_ref == "W" else lon)
    if lat == 0 and lon == 0:
        return None, "the GPS position is 0,0 (the camera had no fix)"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, "the GPS coordinates are out of range"
    alt = None
    try:
        if 6 in gps:
            alt = float(gps[6]) * (-1 if gps.get(5) in (1, b"\x01") else 1)
            alt = alt if math.isfinite(alt) else None
    except (TypeError, ValueError, ZeroDivisionError):
        alt = None
    return GpsFix(lat, lon, alt), None


def read_taken_at(exif: Image.Exif) -> datetime | None:
    """When the photo was taken (DateTimeOriginal), in the camera's local time."""
    try:
        raw = exif.get_ifd(EXIF_IFD).get(36867) or exif.get(306)
        return datetime.strptime(_text(raw), "%Y:%m:%d %H:%M:%S") if raw else None
    except Exception:
        return None


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB: an embedded colour profile is applied, then dropped."""
    icc = image.info.get("icc_profile")
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGBA").convert("RGB") if "A" in image.mode or image.mode == "P" else image.convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB") or image
        except (ImageCms.PyCMSError, OSError):
            pass
    return image.convert("RGB") if image.mode != "RGB" else image


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=False, progressive=True)  # no exif=, no icc_profile=
    return out.getvalue()


def process_photo(data: bytes, limits: PhotoLimits | None = None) -> ProcessedPhoto:
    """Check, read and re-encode one uploaded photo; raises a specific error for anything unusable."""
    limits = limits or PhotoLimits.from_settings()
    if len(data) > limits.max_bytes:
        raise PhotoTooLarge(f"a photo may be at most {limits.max_bytes // (1024 * 1024)} MB", bytes=len(data))
    if not data:
        raise InvalidPhoto("the photo is empty")
    media_type = sniff(data)
    try:
        source = Image.open(io.BytesIO(data), formats=[ACCEPTED[media_type]])
        width, height = source.size
        if width < limits.min_side or height < limits.min_side:
            raise InvalidPhoto(
                f"the photo is {width}×{height} pixels; at least {limits.min_side} on each side is needed"
            )
        if width * height > limits.max_pixels:
            raise InvalidPhoto(f"the photo has {width * height:,} pixels; at most {limits.max_pixels:,} are accepted")
        if max(width, height) / min(width, height) > 20:
            raise InvalidPhoto(f"the photo's shape ({width}×{height}) is not a photo's")
        exif = source.getexif()
        gps, gps_note = read_gps(exif)
        taken_at = read_taken_at(exif)
        scale = limits.display_size / max(width, height)
        if source.format == "JPEG" and scale < 1:
            # Decode at the smallest power-of-two scale that still covers the display size.
            source.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        source.load()
        image = _to_srgb(ImageOps.exif_transpose(source) or source)
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        ZeroDivisionError,
        Image.DecompressionBombError,
        RuntimeError,
    ) as exc:
        raise InvalidPhoto(f"the photo cannot be read: {exc}") from exc
    image.thumbnail((limits.display_size, limits.display_size))
    display = _encode(image, limits.jpeg_quality)
    dw, dh = image.size
    image.thumbnail((limits.thumbnail_size, limits.thumbnail_size))
    thumbnail = _encode(image, limits.jpeg_quality)
    return ProcessedPhoto(
        display=display,
        thumbnail=thumbnail,
        width=dw,
        height=dh,
        thumb_width=image.size[0],
        thumb_height=image.size[1],
        media_type=media_type,
        original_bytes=len(data),
        original_sha256=hashlib.sha256(data).hexdigest(),
        gps=gps,
        gps_note=gps_note,
        taken_at=taken_at,
        display_key=_key(display),
        thumbnail_key=_key(thumbnail),
    )
