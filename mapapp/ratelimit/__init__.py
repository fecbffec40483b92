"""Rate limits kept in PostgreSQL, so that every app process shares them."""

from mapapp.ratelimit.service import RateLimited, allow, check, client_address, limit_named

__all__ = ["RateLimited", "allow", "check", "client_address", "limit_named"]
