"""The photo pipeline, in the order that keeps it safe and cheap.

sniff the real type → check bytes and pixel limits from the header → read GPS and time →
wait for room in the decode budget (admission by the decoded size the header declares) → decode at
the scale needed (JPEG draft) → reduce strip by strip → orient → convert to sRGB → re-encode a display
image and a thumbnail with no metadata at all.
"""

import asyncio
import hashlib
import io
import math
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import filetype
import pillow_heif
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from mapapp.core.errors import DomainError, InvalidInput
from mapapp.core.settings import get_settings
from mapapp.photos.budget import (
    TRIM_AFTER_BYTES,
    DecodeBudget,
    PhotoWorkBusy,
    decode_budget,
    photo_pool,
    release_memory,
)

pillow_heif.register_heif_opener()
# Pillow's own bomb check would raise only at twice its default; ours is checked before decoding.
Image.MAX_IMAGE_PIXELS = None

ACCEPTED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF", "image/heif": "HEIF"}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
SRGB = ImageCms.createProfile("sRGB")
# Large images are converted and reduced this many bytes at a time.
STRIP_BYTES = 16 * 1024 * 1024
TRANSPOSE = {  # EXIF orientation -> the turn that makes the image upright (as ImageOps.exif_transpose)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    ZeroDivisionError,
    Image.DecompressionBombError,
    RuntimeError,
)


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


def _bytes_per_pixel(mode: str) -> int:
    # Pillow keeps 1, L and P in a byte, 16-bit grey in two, and every other mode (RGB too) in four.
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB or L, alpha dropped; colour profiles are applied later, on the small image."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "RGBA":
        return image.convert("RGB")
    if "A" in image.mode or image.mode == "P":
        return image.convert("RGBA").convert("RGB")
    return image.convert("RGB")


def _apply_profile(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB in sRGB: an embedded colour profile is applied, then dropped."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB") or image
        except (ImageCms.PyCMSError, OSError):
            pass
    return image.convert("RGB") if image.mode != "RGB" else image


def _reduce_factor(width: int, height: int, display_size: int) -> int:
    # Box-reduce by a whole factor while keeping at least twice the display size for the final resize.
    return max(width, height) // (2 * display_size)


def _shrink(image: Image.Image, display_size: int) -> Image.Image:
    """The decoded image in RGB (or L), reduced strip by strip so no full-size copy is ever made."""
    width, height = image.size
    factor = _reduce_factor(width, height, display_size)
    if factor < 2:
        return _to_rgb(image)
    out = Image.new("L" if image.mode == "L" else "RGB", (-(-width // factor), -(-height // factor)))
    rows = max(1, STRIP_BYTES // (width * 4 * factor)) * factor
    for top in range(0, height, rows):
        strip = _to_rgb(image.crop((0, top, width, min(height, top + rows))))
        out.paste(strip.reduce(factor), (0, top // factor))
    return out


def decode_cost(image: Image.Image, media_type: str, display_size: int) -> int:
    """Bytes the image work will hold at its peak, from the header alone (after any JPEG draft)."""
    width, height = image.size
    decoded = width * height * _bytes_per_pixel(image.mode)
    if media_type in ("image/heic", "image/heif"):
        decoded *= 2  # libheif's buffer, then Pillow's copy of it
    factor = _reduce_factor(width, height, display_size)
    if factor >= 2:
        return decoded + (-(-width // factor)) * (-(-height // factor)) * 4 + STRIP_BYTES
    if image.mode not in ("RGB", "L"):
        return decoded + 2 * width * height * 4  # the converted copies
    return decoded


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=False, progressive=True)  # no exif=, no icc_profile=
    return out.getvalue()


@dataclass
class OpenedPhoto:
    """A photo whose header is read and checked; nothing is decoded yet."""

    data: bytes
    source: Image.Image
    media_type: str
    gps: GpsFix | None
    gps_note: str | None
    taken_at: datetime | None
    orientation: int
    icc: bytes | None
    cost: int  # decoded bytes the image work will hold (the budget's unit)
    exif_later: bool = False  # EXIF may follow the pixels (PNG): read once they are decoded


def _read_exif_after_load(opened: OpenedPhoto) -> None:
    exif = opened.source.getexif()
    if not exif:
        return
    opened.gps, opened.gps_note = read_gps(exif)
    opened.taken_at = read_taken_at(exif)
    orientation = exif.get(ExifTags.Base.Orientation, 1)
    opened.orientation = orientation if isinstance(orientation, int) else 1


class PreparedPhoto(bytes):
    """An upload's bytes carrying the result of processing them, done ahead of the report's transaction."""

    processed: ProcessedPhoto


def open_photo(data: bytes, limits: PhotoLimits) -> OpenedPhoto:
    """Check bytes, type and pixel limits and read GPS and time from the header; decode nothing."""
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
        # Pillow looks for a PNG's eXIf chunk by decoding the whole image: that waits for the budget.
        exif_later = source.format == "PNG" and "exif" not in source.info
        exif = Image.Exif() if exif_later else source.getexif()
        gps, gps_note = read_gps(exif)
        taken_at = read_taken_at(exif)
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        icc = source.info.get("icc_profile")
        scale = limits.display_size / max(width, height)
        if source.format == "JPEG" and scale < 1:
            # Decode at the smallest power-of-two scale that still covers the display size.
            source.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    except DomainError:
        raise
    except DECODE_ERRORS as exc:
        raise InvalidPhoto(f"the photo cannot be read: {exc}") from exc
    return OpenedPhoto(
        data=data,
        source=source,
        media_type=media_type,
        gps=gps,
        gps_note=gps_note,
        taken_at=taken_at,
        orientation=orientation if isinstance(orientation, int) else 1,
        icc=icc if isinstance(icc, bytes) else None,
        exif_later=exif_later,
        cost=decode_cost(source, media_type, limits.display_size),
    )


def render_photo(opened: OpenedPhoto, limits: PhotoLimits) -> ProcessedPhoto:
    """Decode, shrink, turn upright, convert to sRGB and re-encode; the caller holds the budget."""
    try:
        opened.source.load()
        if opened.exif_later:
            _read_exif_after_load(opened)
        image = _shrink(opened.source, limits.display_size)
    except DECODE_ERRORS as exc:
        opened.source.close()
        raise InvalidPhoto(f"the photo cannot be read: {exc}") from exc
    if image is not opened.source:
        opened.source.close()  # frees the full-size pixels now, not when the request ends
    image.thumbnail((limits.display_size, limits.display_size))
    if opened.orientation in TRANSPOSE:
        image = image.transpose(TRANSPOSE[opened.orientation])
    image = _apply_profile(image, opened.icc)
    display = _encode(image, limits.jpeg_quality)
    dw, dh = image.size
    image.thumbnail((limits.thumbnail_size, limits.thumbnail_size))
    thumbnail = _encode(image, limits.jpeg_quality)
    data = opened.data
    return ProcessedPhoto(
        display=display,
        thumbnail=thumbnail,
        width=dw,
        height=dh,
        thumb_width=image.size[0],
        thumb_height=image.size[1],
        media_type=opened.media_type,
        original_bytes=len(data),
        original_sha256=hashlib.sha256(data).hexdigest(),
        gps=opened.gps,
        gps_note=opened.gps_note,
        taken_at=opened.taken_at,
        display_key=_key(display),
        thumbnail_key=_key(thumbnail),
    )


def _render_within(opened: OpenedPhoto, limits: PhotoLimits, budget: DecodeBudget) -> ProcessedPhoto:
    # Runs on a photo thread; the budget taken by the caller is given back here, when the work is done.
    try:
        return render_photo(opened, limits)
    finally:
        budget.release(opened.cost)
        if opened.cost >= TRIM_AFTER_BYTES:
            release_memory()


def process_photo(data: bytes, limits: PhotoLimits | None = None) -> ProcessedPhoto:
    """Check, read and re-encode one uploaded photo; raises a specific error for anything unusable.

    Waits for room in the decode budget (PhotoWorkBusy when there is none in time); a PreparedPhoto
    comes back as it was processed.
    """
    if isinstance(data, PreparedPhoto):
        return data.processed
    limits = limits or PhotoLimits.from_settings()
    opened = open_photo(data, limits)
    budget = decode_budget()
    if not budget.acquire(opened.cost, get_settings().photo_busy_wait_seconds):
        opened.source.close()
        raise PhotoWorkBusy("the server is busy processing photos; try again in a few seconds")
    return _render_within(opened, limits, budget)


async def process_uploads(files: list[bytes], limits: PhotoLimits | None = None) -> list[PreparedPhoto]:
    """Process a request's photos on the photo threads, each admitted by the decode budget first."""
    limits = limits or PhotoLimits.from_settings()
    budget, pool, loop = decode_budget(), photo_pool(), asyncio.get_running_loop()
    prepared = []
    for data in files:
        opened = await asyncio.to_thread(open_photo, data, limits)
        try:
            await budget.acquire_async(opened.cost)
        except BaseException:
            opened.source.close()
            raise
        # Submitted at once: once admitted, the work releases the budget itself, even if the client goes.
        processed = await loop.run_in_executor(pool, _render_within, opened, limits, budget)
        photo = PreparedPhoto(data)
        photo.processed = processed
        prepared.append(photo)
    return prepared
