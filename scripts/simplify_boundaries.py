"""Write the demo's simplified Seoul boundary files (mapapp/demo/data/) from the originals.

    .venv/bin/python scripts/simplify_boundaries.py [../shared/data/boundaries]

The output is deterministic: running it again on the same originals gives the same bytes.
"""

import sys
from pathlib import Path

from mapapp.demo import build

PROJECT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Build the files and print their sizes and vertex counts."""
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT.parent / "shared" / "data" / "boundaries"
    figures = build.build(source, PROJECT / "mapapp" / "demo" / "data")
    for name in ("districts", "dong"):
        print(
            f"{name}.geojson: {figures[name + '_features']} features, {figures[name + '_vertices']} vertices, "
            f"{figures[name + '_bytes'] / 1024:.0f} KB"
        )


if __name__ == "__main__":
    main()
