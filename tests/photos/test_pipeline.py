"""The photo pipeline on real camera and phone photos, project-made photos and hostile files."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from mapapp.core.errors import DomainError
from mapapp.photos import InvalidPhoto, PhotoLimits, PhotoTooLarge, UnsupportedMediaType, process_photo
from tests.conftest import shared_data
from tests.factories import make_photo

EXPECTED_GPS = {  # from the files' EXIF, rounded
    "DSCN0010.jpg": (43.4674, 11.8851),
    "DSCN0021.jpg": (43.4671, 11.8845),
    "iphone5_orientation3.jpg": (47.6272, -122.3373),
    "nexus4.jpg": (51.5625, -0.0773),
    "iphone6plus.jpg": (51.4830, -3.1853),
    "galaxy_s7_edge.jpg": (48.8925, 2.2364),
}


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = _open(data)
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert "icc_profile" not in image.info and "xmp" not in image.info and "exif" not in image.info
    assert b"Exif" not in data[:4096] and b"http://ns.adobe.com/xap" not in data


@pytest.mark.parametrize("name", sorted(EXPECTED_GPS))
def test_every_geotagged_photo_yields_its_coordinates_and_loses_its_metadata(name):
    photo = process_photo(shared_data("photos", "gps", name).read_bytes())
    lat, lon = EXPECTED_GPS[name]
    assert photo.gps is not None
    assert photo.gps.lat == pytest.approx(lat, abs=1e-3) and photo.gps.lon == pytest.approx(lon, abs=1e-3)
    assert photo.taken_at is not None
    assert max(photo.width, photo.height) <= 1600 and max(photo.thumb_width, photo.thumb_height) <= 400
    assert_no_metadata(photo.display)
    assert_no_metadata(photo.thumbnail)


def test_the_upside_down_iphone_photo_is_turned_and_large_photos_are_shrunk():
    raw = shared_data("photos", "gps", "iphone5_orientation3.jpg").read_bytes()
    original = _open(raw)
    photo = process_photo(raw)
    shown = _open(photo.display)
    # Orientation 3 is a half turn: the stored pixels rotated by 180° match what we serve.
    expected = original.rotate(180).resize(shown.size)
    assert ImageStat.Stat(ImageChops.difference(shown.convert("L"), expected.convert("L"))).mean[0] < 12
    assert shown.size == (1600, 1200)


def test_every_orientation_example_comes_out_upright():
    folder = shared_data("photos", "orientation")
    reference = _open(process_photo((folder / "Landscape_1.jpg").read_bytes()).display).convert("L")
    for n in (0, 3, 6, 8):
        shown = _open(process_photo((folder / f"Landscape_{n}.jpg").read_bytes()).display).convert("L")
        assert shown.size == reference.size, n
        assert ImageStat.Stat(ImageChops.difference(shown, reference)).mean[0] < 8, f"Landscape_{n} is not upright"
    portrait = _open(process_photo((folder / "Portrait_6.jpg").read_bytes()).display)
    assert portrait.height > portrait.width


def test_heic_from_an_iphone_is_decoded_with_its_gps():
    photo = process_photo(shared_data("photos", "heic", "iphone8_gps.heic").read_bytes())
    assert photo.media_type == "image/heic"
    assert photo.gps is not None and photo.gps.lat == pytest.approx(23.1779, abs=1e-3)
    assert_no_metadata(photo.display)


BROKEN = {
    "height_zero.jpg": "invalid_photo",
    "corrupted.jpg": None,  # decodes (with damage): accepted
    "fuzzed.heif": "invalid_photo",
    "one_pixel_with_gps.jpg": "invalid_photo",
    "gps_null_island_orientation6.jpg": None,
    "gps_nan.jpg": None,
    "gps_ifd_without_coordinates.jpg": None,
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_get_a_clear_error_or_are_accepted_without_gps(name):
    data = shared_data("photos", "broken", name).read_bytes()
    expected = BROKEN[name]
    if expected is None:
        photo = process_photo(data)
        assert photo.gps is None
        if "gps" in name:
            assert photo.gps_note  # staff see why the GPS was ignored
        assert_no_metadata(photo.display)
    else:
        with pytest.raises(DomainError) as err:
            process_photo(data)
        assert err.value.code == expected and err.value.message


def test_null_island_gps_is_ignored_with_a_note_and_the_photo_is_turned():
    photo = process_photo(shared_data("photos", "broken", "gps_null_island_orientation6.jpg").read_bytes())
    assert photo.gps is None and "0,0" in (photo.gps_note or "")
    assert photo.height > photo.width  # orientation 6 applied


def test_project_made_photos_in_every_accepted_format():
    for fmt in ("JPEG", "PNG", "WEBP"):
        photo = process_photo(make_photo(lat=37.5663, lon=126.9016, fmt=fmt))
        assert photo.gps is not None and photo.gps.lat == pytest.approx(37.5663, abs=1e-4), fmt
        assert (photo.width, photo.height) == (1200, 900)


def test_type_is_sniffed_from_the_bytes_not_the_name():
    with pytest.raises(UnsupportedMediaType):
        process_photo(b"%PDF-1.7\n" + b"0" * 2000)
    with pytest.raises(UnsupportedMediaType):
        process_photo(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    gif = io.BytesIO()
    Image.new("RGB", (64, 64)).save(gif, "GIF")
    with pytest.raises(UnsupportedMediaType):
        process_photo(gif.getvalue())


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_from_its_header():
    with pytest.raises(InvalidPhoto, match="pixels"):
        process_photo(_png_claiming(100_000, 100_000))


def test_byte_and_dimension_limits():
    limits = PhotoLimits(
        max_bytes=10_000, max_pixels=60_000_000, min_side=16, display_size=1600, thumbnail_size=400, jpeg_quality=82
    )
    with pytest.raises(PhotoTooLarge):
        process_photo(make_photo(), limits)
    with pytest.raises(InvalidPhoto, match="shape"):
        process_photo(make_photo(size=(4000, 100)))
    with pytest.raises(InvalidPhoto, match="empty"):
        process_photo(b"")


def test_a_truncated_jpeg_is_invalid_not_a_crash(tmp_path: Path):
    data = make_photo()
    with pytest.raises(InvalidPhoto):
        process_photo(data[: len(data) // 3])
