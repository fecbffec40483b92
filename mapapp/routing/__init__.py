"""Routing: who is responsible for this point and category."""

from mapapp.routing.service import (
    InvalidCoordinates,
    JurisdictionRef,
    OfficeRef,
    OutsideServiceArea,
    RerouteSummary,
    RoutingDecision,
    reroute_reports,
    route,
)

__all__ = [
    "InvalidCoordinates",
    "JurisdictionRef",
    "OfficeRef",
    "OutsideServiceArea",
    "RerouteSummary",
    "RoutingDecision",
    "reroute_reports",
    "route",
]
