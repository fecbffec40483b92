"""A built wheel, installed away from the checkout, serves a working map; without its assets it refuses."""

import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import Watch, screenshot
from tests.conftest import PROJECT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, installed into a fresh virtual environment of its own.

    Its third-party dependencies are borrowed from the project's environment (a .pth line), so the test
    needs no network; mapapp itself comes only from the wheel.
    """
    if not (PROJECT / "node_modules" / "leaflet").is_dir():
        pytest.skip("the browser assets are not installed in the checkout (make test installs them)")
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root), str(PROJECT)],
        check=True,
        cwd=root,
    )
    wheel = next(root.glob("mapapp-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], check=True
    )
    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import mapapp; print(mapapp.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout
    assert where.startswith(str(site)), f"mapapp was imported from {where}, not from the wheel"
    return python


def _serve(python: Path, env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(python), "-m", "mapapp.cli", "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return server, f"http://127.0.0.1:{port}"


def test_the_installed_wheel_migrates_and_serves_the_map(installed, fresh_db, browser, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_") and k != "PYTHONPATH"}
    env |= {"MAPAPP_DATABASE_URL": fresh_db, "MAPAPP_MEDIA_DIR": str(tmp_path / "media"), "MAPAPP_TILE_URL": ""}
    # The wheel carries its migrations and layer files: a fresh database is set up from them alone.
    for command in (["db", "upgrade"], ["layers", "sync"]):
        done = subprocess.run(
            [str(installed), "-m", "mapapp.cli", *command], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    server, base = _serve(installed, env, tmp_path)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with urllib.request.urlopen(base + "/static/vendor/leaflet/leaflet.js") as answer:
            assert answer.status == 200
        watch = Watch({urlparse(base).netloc})
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        page = context.new_page()
        watch.attach(page)
        page.goto(base + "/")
        page.wait_for_function("() => window.L && document.querySelector('.leaflet-container')")
        screenshot(page, "packaging-installed-wheel-map")
        context.close()
        watch.check()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_refuses_to_start_without_its_assets_and_says_the_fix(installed, fresh_db, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_") and k != "PYTHONPATH"}
    env |= {"MAPAPP_DATABASE_URL": fresh_db, "MAPAPP_VENDOR_DIR": str(tmp_path / "nothing-here")}
    server, _ = _serve(installed, env, tmp_path)
    output, _ = server.communicate(timeout=30)
    assert server.returncode == 2
    assert "browser assets are missing" in output and "npm ci" in output
    assert "Traceback" not in output
