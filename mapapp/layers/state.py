"""A layer's effective state, written once: an active layer stops taking reports at its end time.

The stored `state` is what an administrator last set; `active_until` may close it later without anyone
acting. Every reader and writer asks these two functions, never `layers.state` alone.
"""

from datetime import UTC, datetime


def effective_state(state: str, active_until: datetime | None, now: datetime | None = None) -> str:
    """'inactive' for an active layer whose end time has passed, else the stored state."""
    now = now or datetime.now(UTC)
    if state == "active" and active_until is not None and active_until <= now:
        return "inactive"
    return state


def effective_state_sql(layer: str = "l") -> str:
    """The same rule as a SQL expression over the layers row aliased `layer`."""
    return (
        f"(CASE WHEN {layer}.state = 'active' AND {layer}.active_until <= now() THEN 'inactive' ELSE {layer}.state END)"
    )
