"""Ports for the servers the scaling tests start (the servers themselves: mapapp.stack.processes).

Ports come from MAPAPP_TEST_PORTS (a range, "18700-18899" unless told): the first free one after the last
one given, so two servers of one run never share a port.
"""

import os

from mapapp.stack.processes import (
    Cluster,
    create_database,
    init_primary,
    init_replica,
    pgbouncer_config,
    port_is_free,
    start_moto,
    start_pgbouncer,
    stop,
    wait_for_replay,
)

__all__ = [
    "Cluster",
    "create_database",
    "free_port",
    "init_primary",
    "init_replica",
    "pgbouncer_config",
    "start_moto",
    "start_pgbouncer",
    "stop",
    "wait_for_replay",
]

_next = 0


def free_port() -> int:
    """The next free loopback port of the test range."""
    global _next
    low, high = (int(p) for p in os.environ.get("MAPAPP_TEST_PORTS", "18700-18899").split("-"))
    for _ in range(high - low + 1):
        port = low + (_next % (high - low + 1))
        _next += 1
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free port in {low}-{high}")
