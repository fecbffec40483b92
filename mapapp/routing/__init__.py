"""Routing: who is responsible for this point and category."""

from mapapp.routing.rule import status_after
from mapapp.routing.service import (
    InvalidCoordinates,
    JurisdictionRef,
    OfficeRef,
    OutsideServiceArea,
    RerouteSummary,
    RoutingDecision,
    check_coordinates,
    render_reason,
    reroute_reports,
    route,
    tolerance_degrees,
)

__all__ = [
    "InvalidCoordinates",
    "JurisdictionRef",
    "OfficeRef",
    "OutsideServiceArea",
    "RerouteSummary",
    "RoutingDecision",
    "check_coordinates",
    "render_reason",
    "reroute_reports",
    "route",
    "status_after",
    "tolerance_degrees",
]
