"""Fixtures of the scaling tests: a real S3 API server (moto) and the settings that point at it."""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapapp.core.settings import get_settings
from tests.stack import servers

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's S3 server, started for the session on a free loopback port."""
    pytest.importorskip("moto.server", reason="moto[server] is a dev dependency (make test installs it)")
    os.environ.update(S3_ENV)
    port = servers.free_port()
    folder = Path(tempfile.mkdtemp(prefix="mapapp-test-moto-"))
    process = servers.start_moto(port, folder / "moto.log")
    yield f"http://127.0.0.1:{port}"
    servers.stop(process)
    shutil.rmtree(folder, ignore_errors=True)


def use_bucket(moto_url: str, bucket: str) -> None:
    from mapapp.photos import storage

    os.environ.update({"MAPAPP_PHOTO_STORAGE": "s3", "MAPAPP_S3_ENDPOINT_URL": moto_url, "MAPAPP_S3_BUCKET": bucket})
    get_settings.cache_clear()
    storage._s3_storage.cache_clear()


def use_local_photos() -> None:
    for name in ("MAPAPP_PHOTO_STORAGE", "MAPAPP_S3_ENDPOINT_URL", "MAPAPP_S3_BUCKET"):
        os.environ.pop(name, None)
    get_settings.cache_clear()


@pytest.fixture
def bucket(moto_url: str) -> Iterator[str]:
    """A new versioned bucket, and the settings pointing at it (photo storage s3) for this test."""
    from mapapp.photos.s3 import ensure_bucket, make_client

    name = f"mapapp-test-{uuid.uuid4().hex[:10]}"
    ensure_bucket(make_client(endpoint_url=moto_url, region="us-east-1"), name)
    use_bucket(moto_url, name)
    yield name
    use_local_photos()
