"""Rate-limit tests lower the suite's generous limits for themselves, and start from empty buckets."""

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from mapapp.core.settings import get_settings


@pytest.fixture
def limits(demo_db: str) -> Iterator[Callable[..., None]]:
    """`limits(submit=(per_hour, burst), trusted_proxies="10.0.0.0/8", ...)`: settings for this test only."""
    engine = create_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_limits; DELETE FROM login_throttles"))
    with pytest.MonkeyPatch.context() as mp:

        def set_limits(**values: object) -> None:
            for name, value in values.items():
                if isinstance(value, tuple):
                    mp.setenv(f"MAPAPP_RATELIMIT_{name.upper()}_PER_HOUR", str(value[0]))
                    mp.setenv(f"MAPAPP_RATELIMIT_{name.upper()}_BURST", str(value[1]))
                else:
                    mp.setenv(f"MAPAPP_{name.upper()}", str(value))
            get_settings.cache_clear()

        yield set_limits
    get_settings.cache_clear()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_limits; DELETE FROM login_throttles"))
    engine.dispose()
