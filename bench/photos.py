"""Photo pipeline benchmark: our process_photo against a bare Pillow script doing the same work.

    .venv/bin/python -m bench.photos [--rounds 5]

The two sides are timed alternately (bare, ours, bare, ours), never all of one first.

The bare script opens with draft, applies the EXIF orientation, makes the 1600 px display image and
the 400 px thumbnail and saves both as JPEG. Ours also sniffs the type, checks limits, reads GPS and
time, converts to sRGB and hashes the results. Needs ../shared/data/photos.
"""

import argparse
import io
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from PIL import Image, ImageOps

from bench.common import SHARED_DATA
from mapapp.photos import process_photo

PHONE_PHOTOS = ["nexus4.jpg", "iphone6plus.jpg", "galaxy_s7_edge.jpg", "iphone5_orientation3.jpg"]


def bare_pillow(data: bytes) -> tuple[bytes, bytes]:
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    scale = 1600 / max(width, height)
    if scale < 1:
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((1600, 1600))
    display = io.BytesIO()
    image.save(display, "JPEG", quality=82, progressive=True)
    image.thumbnail((400, 400))
    thumb = io.BytesIO()
    image.save(thumb, "JPEG", quality=82, progressive=True)
    return display.getvalue(), thumb.getvalue()


def ours(data: bytes) -> tuple[bytes, bytes]:
    photo = process_photo(data)
    return photo.display, photo.thumbnail


def per_image_ms(photos: list[bytes], rounds: int) -> tuple[float, float]:
    """Median milliseconds per image, bare and ours, timed alternately (A B A B) so drift hits both."""
    samples: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(rounds):
        for data in photos:
            for name, fn in (("bare", bare_pillow), ("ours", ours)):
                start = time.perf_counter()
                fn(data)
                samples[name].append((time.perf_counter() - start) * 1000)
    return statistics.median(samples["bare"]), statistics.median(samples["ours"])


def _work(args: tuple[str, bytes]) -> None:
    (ours if args[0] == "ours" else bare_pillow)(args[1])


def throughput(kind: str, photos: list[bytes], total: int) -> float:
    """Photos per second on both cores (two processes)."""
    jobs = [(kind, photos[i % len(photos)]) for i in range(total)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_work, jobs[:4]))  # start the workers
        start = time.perf_counter()
        list(pool.map(_work, jobs))
        return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    photos = [(SHARED_DATA / "photos" / "gps" / name).read_bytes() for name in PHONE_PHOTOS]
    for fn in (bare_pillow, ours):  # warm up
        fn(photos[0])
    bare, mine = per_image_ms(photos, args.rounds)
    print(f"per image, median of {args.rounds * len(photos)} (8-12 MP phone JPEGs), one core, A B A B:")
    print(f"  bare Pillow script   {bare:7.1f} ms")
    print(f"  process_photo()      {mine:7.1f} ms   ({mine / bare:.2f}x bare)")
    rates: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(2):  # alternated too
        for kind in ("bare", "ours"):
            rates[kind].append(throughput(kind, photos, 40))
    print("throughput on two cores (two processes), best of two alternated runs:")
    print(f"  bare Pillow script   {max(rates['bare']):6.1f} photos/s")
    print(
        f"  process_photo()      {max(rates['ours']):6.1f} photos/s   ({max(rates['bare']) / max(rates['ours']):.2f}x)"
    )


if __name__ == "__main__":
    main()
