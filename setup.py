"""Packaging hook: a built wheel carries everything `mapapp serve` needs outside a checkout.

The browser assets come from npm at set-up time (package.json) and are not in git; our own JS/CSS,
the layer files and the migrations live beside the package. A wheel copies them into
mapapp/assets/, where the settings look when there is no checkout around the package.
Editable installs (pip install -e) read them from the checkout and copy nothing.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# The npm folders the app serves (mapapp.app.VENDOR), relative to node_modules.
VENDOR = (
    "leaflet/dist",
    "leaflet.markercluster/dist",
    "swagger-ui-dist",
    "exifr/dist",
    "@mapbox/vector-tile",
    "@mapbox/point-geometry",
    "pbf",
    "chart.js/dist",
)


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "mapapp" / "assets"
        missing = [folder for folder in VENDOR if not (ROOT / "node_modules" / folder).is_dir()]
        if missing:
            raise SystemExit(
                "the browser assets are missing (" + ", ".join(missing) + "): run `npm ci --ignore-scripts` "
                "(or `make run`) in the checkout before building the package"
            )
        for folder in VENDOR:
            shutil.copytree(ROOT / "node_modules" / folder, target / "vendor" / folder, dirs_exist_ok=True)
        shutil.copytree(ROOT / "static", target / "static", dirs_exist_ok=True)
        shutil.copytree(ROOT / "layers", target / "layers", dirs_exist_ok=True)
        shutil.copytree(
            ROOT / "migrations", target / "migrations", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copy2(ROOT / "alembic.ini", target / "alembic.ini")


setup(cmdclass={"build_py": BuildWithAssets})
