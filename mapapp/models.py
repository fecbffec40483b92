"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from mapapp.core.db import Base
from mapapp.jurisdictions.models import Jurisdiction, JurisdictionPart
from mapapp.layers.models import Category, Layer
from mapapp.offices.models import Office
from mapapp.reports.models import Report, ReportEvent, RoutingDecisionRecord
from mapapp.routing.models import RerouteRun

__all__ = [
    "Base",
    "Category",
    "Jurisdiction",
    "JurisdictionPart",
    "Layer",
    "Office",
    "Report",
    "ReportEvent",
    "RerouteRun",
    "RoutingDecisionRecord",
]
