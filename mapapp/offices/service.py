"""Offices: create, read and list the departments that own reports."""

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from mapapp import jurisdictions
from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.offices.models import Office

DEPARTMENT = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class OfficeNotFound(NotFound):
    code = "unknown_office"


def create_office(
    session: Session,
    *,
    jurisdiction_code: str,
    department: str,
    name_ko: str,
    name_en: str,
    slug: str | None = None,
    email: str | None = None,
) -> Office:
    """An office of a jurisdiction handling one department's categories."""
    if not DEPARTMENT.match(department):
        raise InvalidInput(f"department {department!r} must be lower-case letters, digits, '-' or '_'")
    jurisdiction = jurisdictions.get_jurisdiction_or_raise(session, code=jurisdiction_code)
    slug = slug or f"{jurisdiction.code}-{department}"
    clash = session.scalar(
        select(Office).where(
            (Office.slug == slug) | ((Office.jurisdiction_id == jurisdiction.id) & (Office.department == department))
        )
    )
    if clash is not None:
        raise Conflict(
            f"office {clash.slug!r} already handles {clash.department!r} in {jurisdiction.code}",
            office=clash.slug,
        )
    office = Office(
        slug=slug,
        jurisdiction_id=jurisdiction.id,
        department=department,
        name_ko=name_ko,
        name_en=name_en,
        email=email,
        active=True,
    )
    session.add(office)
    session.flush()
    return office


def get_office_or_raise(session: Session, *, slug: str) -> Office:
    """The office with this slug, or OfficeNotFound."""
    office = session.scalar(select(Office).where(Office.slug == slug))
    if office is None:
        raise OfficeNotFound(f"there is no office {slug!r}", office=slug)
    return office


def list_offices(session: Session) -> list[Office]:
    """Every office, by slug."""
    return list(session.scalars(select(Office).order_by(Office.slug)))
