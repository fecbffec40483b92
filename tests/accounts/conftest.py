"""Log-in tests use the rate-limit tests' fixture: their own low limits and empty throttles."""

from tests.ratelimit.conftest import limits

__all__ = ["limits"]
