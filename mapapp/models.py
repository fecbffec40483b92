"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from mapapp.accounts.models import LoginThrottle, PasswordReset, StaffSession, User
from mapapp.alerts.models import AlertSubscription
from mapapp.core.db import Base
from mapapp.intake.models import Channel, GazetteerPlace, IntakeDecision, IntakeMessage
from mapapp.jurisdictions.models import Jurisdiction, JurisdictionPart
from mapapp.layers.models import Category, Department, Layer, LayerEvent
from mapapp.notify.models import OutboxMessage
from mapapp.offices.models import Office, OfficeStatusCount, ReportNote
from mapapp.open311.models import ApiKey
from mapapp.photos.models import Photo
from mapapp.ratelimit.models import RateLimitBucket
from mapapp.reports.models import IdempotencyKey, Report, ReportEvent, RoutingDecisionRecord, Supporter
from mapapp.routing.models import RerouteRun

__all__ = [
    "AlertSubscription",
    "ApiKey",
    "Base",
    "Category",
    "Channel",
    "Department",
    "GazetteerPlace",
    "IdempotencyKey",
    "IntakeDecision",
    "IntakeMessage",
    "Jurisdiction",
    "JurisdictionPart",
    "Layer",
    "LayerEvent",
    "LoginThrottle",
    "Office",
    "OfficeStatusCount",
    "OutboxMessage",
    "PasswordReset",
    "Photo",
    "RateLimitBucket",
    "Report",
    "ReportEvent",
    "ReportNote",
    "RerouteRun",
    "RoutingDecisionRecord",
    "StaffSession",
    "Supporter",
    "User",
]
