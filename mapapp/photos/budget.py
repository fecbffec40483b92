"""A memory budget for image work, and the small pool it runs in.

A 228 KB PNG can declare 60 MP of RGBA: 240 MB once decoded. Admission is by what the header declares
(width × height × bytes per pixel), before anything is decoded, so however many uploads arrive the
decoded images held at once stay under `photo_decode_budget_bytes`. An upload that finds the budget
full waits up to `photo_busy_wait_seconds`, then gets 503 `busy` with Retry-After.
"""

import asyncio
import ctypes
import ctypes.util
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache

from mapapp.core.errors import Busy
from mapapp.core.settings import get_settings

# glibc keeps freed heap pages mapped; after a big image we hand them back so RSS returns to its baseline.
TRIM_AFTER_BYTES = 32 * 1024 * 1024


# One error class per code: photo work that has to wait answers the same 503 `busy` as a full connection pool.
PhotoWorkBusy = Busy


class DecodeBudget:
    """A counting semaphore over bytes: what decoded images may hold at once in this process."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._cond = threading.Condition()

    def _cost(self, cost: int) -> int:
        # One image larger than the whole budget may still run, alone.
        return max(1, min(cost, self.capacity))

    def try_acquire(self, cost: int) -> bool:
        """Take `cost` bytes if they fit now."""
        cost = self._cost(cost)
        with self._cond:
            if self.used + cost > self.capacity:
                return False
            self.used += cost
            return True

    def acquire(self, cost: int, timeout: float) -> bool:
        """Take `cost` bytes, waiting up to `timeout` seconds for room."""
        cost = self._cost(cost)
        with self._cond:
            if not self._cond.wait_for(lambda: self.used + cost <= self.capacity, timeout):
                return False
            self.used += cost
            return True

    def release(self, cost: int) -> None:
        """Give back what `acquire` took."""
        cost = self._cost(cost)
        with self._cond:
            self.used -= cost
            self._cond.notify_all()

    @contextmanager
    def admit(self, cost: int, *, wait: float | None = None) -> Iterator[None]:
        """Hold `cost` bytes for the duration of the block, or raise PhotoWorkBusy (blocking callers)."""
        wait = get_settings().photo_busy_wait_seconds if wait is None else wait
        if not self.acquire(cost, wait):
            raise _busy()
        try:
            yield
        finally:
            self.release(cost)

    async def acquire_async(self, cost: int, *, wait: float | None = None) -> None:
        """Take `cost` bytes without blocking the event loop, or raise PhotoWorkBusy after `wait` seconds."""
        wait = get_settings().photo_busy_wait_seconds if wait is None else wait
        deadline = time.monotonic() + wait
        delay = 0.005
        # Polling keeps one lock for threads and coroutines alike; the wait is short and rare.
        while not self.try_acquire(cost):
            if time.monotonic() >= deadline:
                raise _busy()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)


def _busy() -> PhotoWorkBusy:
    return PhotoWorkBusy("the server is busy processing photos; try again in a few seconds")


@lru_cache
def _budget(capacity: int) -> DecodeBudget:
    return DecodeBudget(capacity)


def decode_budget() -> DecodeBudget:
    """The process-wide budget, sized by MAPAPP_PHOTO_DECODE_BUDGET_BYTES."""
    return _budget(get_settings().photo_decode_budget_bytes)


@lru_cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photo")


def photo_pool() -> ThreadPoolExecutor:
    """The threads image work runs on: few, so few malloc arenas hold freed image memory."""
    return _pool(get_settings().photo_workers)


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Return freed heap pages to the system (glibc `malloc_trim`); a no-op elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
