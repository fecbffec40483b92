"""Rate limits as GCRA buckets in PostgreSQL (one atomic statement per check), and who the client is.

GCRA ("generic cell rate algorithm"): each key keeps a theoretical arrival time (TAT). A limit of
`per_hour` with `burst` spaces requests `interval = 3600 / per_hour` seconds apart and lets up to
`burst` of them come at once. A request is allowed when max(TAT, now) + interval lies no further
than `burst * interval` ahead of now; then that becomes the new TAT. A refused request changes
nothing. A key whose TAT has passed is the same as no key, so expired rows can be deleted at any time.
"""

import hashlib
import hmac
import ipaddress
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings

LIMIT_NAMES = ("submit", "open311", "support", "login", "reopen", "email")
CLEANUP_PROBABILITY = 0.01  # about one check in a hundred also deletes up to CLEANUP_BATCH expired keys
CLEANUP_BATCH = 500

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RateLimited(DomainError):
    """Too many requests for this key: come back after `retry_after` seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """A named limit: a sustained rate per hour and how many requests may come at once."""

    name: str
    per_hour: float
    burst: int

    @property
    def interval(self) -> float:
        """Seconds between two requests at the sustained rate."""
        return 3600.0 / self.per_hour


def limit_named(name: str) -> Limit:
    """The limit `name` as the settings configure it (`ratelimit_<name>_per_hour`, `..._burst`)."""
    if name not in LIMIT_NAMES:
        raise ValueError(f"unknown rate limit {name!r}; known: {', '.join(LIMIT_NAMES)}")
    settings = get_settings()
    return Limit(name, getattr(settings, f"ratelimit_{name}_per_hour"), getattr(settings, f"ratelimit_{name}_burst"))


def bucket_key(limit: Limit, subject: str) -> str:
    """The row key: the limit's name and a keyed hash of the subject (no address is stored in clear)."""
    digest = hmac.new(get_settings().secret_key.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return f"{limit.name}:{digest[:48]}"


# The upsert takes the row lock, so concurrent checks of one key from any process are serialised and
# each sees the TAT the previous one left. The outer SELECT reads the statement's snapshot, i.e. the TAT
# before this request: only used to say how long to wait when refused.
GCRA_SQL = text(
    """
    WITH claimed AS (
        INSERT INTO rate_limits AS b (key, tat)
        VALUES (:key, now() + make_interval(secs => :interval))
        ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, now()) + make_interval(secs => :interval)
        WHERE greatest(b.tat, now()) + make_interval(secs => :interval)
              <= now() + make_interval(secs => :interval * :burst)
        RETURNING tat
    )
    SELECT EXISTS (SELECT 1 FROM claimed) AS allowed,
           (SELECT extract(epoch FROM b.tat - now()) - :interval * (:burst - 1)
            FROM rate_limits b WHERE b.key = :key) AS wait
    """
)

CLEANUP_SQL = text(
    """
    DELETE FROM rate_limits WHERE key IN (
        SELECT key FROM rate_limits WHERE tat < now() ORDER BY tat LIMIT :n FOR UPDATE SKIP LOCKED)
    """
)


def allow(session: Session, *, limit: Limit, subject: str) -> tuple[bool, int]:
    """Take one request from the bucket of (limit, subject): (allowed, seconds to wait when refused)."""
    if not get_settings().ratelimit_enabled:
        return True, 0
    row = session.execute(
        GCRA_SQL, {"key": bucket_key(limit, subject), "interval": limit.interval, "burst": limit.burst}
    ).one()
    if random.random() < CLEANUP_PROBABILITY:  # housekeeping spread over requests, not security
        remove_expired(session)
    if row.allowed:
        return True, 0
    return False, max(1, math.ceil(float(row.wait or 1)))


def check(session: Session, *, limit: Limit, subject: str, what: str = "requests") -> None:
    """Take one request from the bucket, or raise RateLimited (429 with Retry-After)."""
    allowed, wait = allow(session, limit=limit, subject=subject)
    if not allowed:
        raise RateLimited(f"too many {what}; try again in {wait} s", retry_after=wait)


def remove_expired(session: Session, *, batch: int = CLEANUP_BATCH) -> int:
    """Delete up to `batch` keys whose bucket is full again (the same as having no row)."""
    return session.execute(CLEANUP_SQL, {"n": batch}).rowcount or 0  # type: ignore[attr-defined]


# --- who the client is ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in trusted)


def _ip(value: str) -> IpAddress | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:4711"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:4711"
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IpAddress, networks: Iterable[IpNetwork]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _bucket(address: IpAddress) -> str:
    # One IPv6 client usually owns a whole /64: counting single addresses would let it rotate freely.
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[str]) -> str:
    """The client a limit counts: the peer, or, when the peer is a trusted proxy, the right-most
    untrusted address of X-Forwarded-For (entries left of it may be forged by the client)."""
    if not peer:
        return "unknown"
    address = _ip(peer)
    if address is None:
        return peer  # not an IP (a Unix socket, a test client): the peer's name is all there is
    networks = _networks(tuple(trusted))
    if not _trusted(address, networks):
        return _bucket(address)
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        parsed = _ip(hop)
        if parsed is None:  # a proxy of ours wrote something that is not an address: stop at what we know
            break
        address = parsed
        if not _trusted(parsed, networks):
            break
    return _bucket(address)
