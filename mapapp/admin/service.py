"""What city administrators look after: layers, offices, users, API keys, boundaries. Administrators only."""

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp import jurisdictions
from mapapp.accounts import service as accounts
from mapapp.accounts.models import User
from mapapp.core.actors import Actor, Forbidden
from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.core.text import is_email
from mapapp.layers import service as layers
from mapapp.offices import service as offices
from mapapp.offices.models import Office
from mapapp.open311 import service as open311
from mapapp.open311.models import ApiKey


def check_admin(actor: Actor) -> None:
    """Every function here starts with this: the administration desk is for city administrators."""
    if not actor.is_admin:
        raise Forbidden("the administration pages are for city administrators")


def _layers(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "slug": layer.slug,
            "name": {"ko": layer.name_ko, "en": layer.name_en},
            "kind": layer.kind,
            # The effective state (layers.state): an active layer past its end time reads inactive.
            "state": layer.effective_state,
            "until": layer.active_until.isoformat() if layer.active_until else None,
            "banner": {"ko": layer.banner_ko, "en": layer.banner_en},
            "categories": [
                {
                    "slug": c.slug,
                    "name": {"ko": c.name_ko, "en": c.name_en},
                    "level": c.level,
                    "department": c.department,
                    "response_hours": c.response_hours,
                    "hold_photos": c.photo_approval_since is not None,
                }
                for c in layers.list_categories(session, layer_id=layer.id)
            ],
        }
        for layer in layers.list_layers(session, states=("active", "inactive", "archived"))
    ]


def overview(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Layers, offices with staff counts, users, API keys, boundaries and the areas offices belong to."""
    check_admin(actor)
    office_rows = session.execute(
        text(
            """
            SELECT o.slug, o.name_ko, o.name_en, o.department, o.email, j.code AS jurisdiction, o.active,
                   (SELECT count(*) FROM users u WHERE u.office_id = o.id AND u.active) AS staff
            FROM offices o JOIN jurisdictions j ON j.id = o.jurisdiction_id ORDER BY o.slug
            """
        )
    ).mappings()
    user_rows = session.execute(
        text(
            "SELECT u.id, u.email, u.name, u.role, o.slug AS office, u.active FROM users u "
            "LEFT JOIN offices o ON o.id = u.office_id ORDER BY u.role, u.email"
        )
    ).mappings()
    keys = session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc()))
    areas = session.execute(
        text(
            "SELECT code, name_ko, name_en, level FROM jurisdictions WHERE retired_at IS NULL "
            "AND level IN ('city', 'district') ORDER BY array_position(ARRAY['city', 'district'], level::text), code"
        )
    ).mappings()
    return {
        "layers": _layers(session),
        "offices": [dict(r) for r in office_rows],
        "users": [dict(r) for r in user_rows],
        "api_keys": [
            {"id": k.id, "name": k.name, "created_at": k.created_at, "revoked_at": k.revoked_at} for k in keys
        ],
        "boundaries": jurisdictions.boundaries_summary(session),
        "jurisdictions": [dict(r) for r in areas],
        "departments": sorted(
            {c.department for c in layers.list_categories(session)} | set(layers.department_names(session, locale="en"))
        ),
    }


# --- offices ----------------------------------------------------------------------------------------


def _check_office_email(email: str | None) -> str | None:
    email = (email or "").strip() or None
    if email is not None and not is_email(email):
        raise accounts.InvalidEmail(f"{email!r} is not an e-mail address", field="email")
    return email


def _check_names(name_ko: str, name_en: str) -> None:
    for field, value in (("name_ko", name_ko), ("name_en", name_en)):
        if not value.strip():
            raise InvalidInput("an office needs a Korean and an English name", field=field)


def create_office(
    session: Session,
    *,
    actor: Actor,
    jurisdiction: str,
    department: str,
    name_ko: str,
    name_en: str,
    email: str | None = None,
) -> Office:
    """A new office: one department of the city or of a district (reports of its categories go there)."""
    check_admin(actor)
    _check_names(name_ko, name_en)
    return offices.create_office(
        session,
        jurisdiction_code=jurisdiction,
        department=department.strip(),
        name_ko=name_ko.strip(),
        name_en=name_en.strip(),
        email=_check_office_email(email),
    )


def update_office(
    session: Session,
    *,
    actor: Actor,
    slug: str,
    name_ko: str | None = None,
    name_en: str | None = None,
    email: str | None = None,
    active: bool | None = None,
) -> Office:
    """Rename an office, change its e-mail, or (de)activate it: an inactive office gets no new reports."""
    check_admin(actor)
    office = offices.get_office_or_raise(session, slug=slug)
    _check_names(name_ko if name_ko is not None else office.name_ko, name_en if name_en is not None else office.name_en)
    if name_ko is not None:
        office.name_ko = name_ko.strip()
    if name_en is not None:
        office.name_en = name_en.strip()
    if email is not None:
        office.email = _check_office_email(email)
    if active is not None:
        office.active = active
    session.flush()
    return office


# --- users ------------------------------------------------------------------------------------------


def _office_id(session: Session, slug: str | None) -> int | None:
    return offices.get_office_or_raise(session, slug=slug).id if slug else None


def create_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    name: str,
    role: str,
    office: str | None = None,
    password: str | None = None,
) -> User:
    """A staff account; without a password, a random one is set and a reset link is e-mailed (an invitation)."""
    check_admin(actor)
    user = accounts.create_user(
        session,
        email=email,
        name=name,
        role=role,
        password=password or secrets.token_urlsafe(24),
        # Administrators and the triage team work city-wide: an office chosen with them is not theirs.
        office_id=None if role in ("admin", "triage") else _office_id(session, office),
    )
    if not password:
        accounts.send_password_reset(session, user_id=user.id)
    return user


def update_user(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    name: str | None = None,
    role: str | None = None,
    office: str | None = None,
    active: bool | None = None,
) -> User:
    """Change a user's name, role, office or whether they may log in."""
    check_admin(actor)
    if user_id == actor.user_id and (active is False or (role is not None and role != "admin")):
        raise Conflict("administrators cannot disable or demote themselves; ask another administrator")
    return accounts.update_user(
        session,
        user_id=user_id,
        name=name,
        role=role,
        office_id=_office_id(session, office),
        clear_office=role in ("admin", "triage"),
        active=active,
    )


def send_password_reset(session: Session, *, actor: Actor, user_id: int) -> None:
    """E-mail the user a one-time link to choose a new password."""
    check_admin(actor)
    accounts.send_password_reset(session, user_id=user_id)


# --- API keys ---------------------------------------------------------------------------------------


def create_api_key(session: Session, *, actor: Actor, name: str) -> dict[str, Any]:
    """A new key for a client that posts reports; the key itself is in this answer only."""
    check_admin(actor)
    if not name.strip():
        raise InvalidInput("say who the key is for", field="name")
    key = open311.create_api_key(session, name=name.strip())
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hashlib.sha256(key.encode()).hexdigest())).one()
    return {"id": row.id, "name": row.name, "key": key}


def revoke_api_key(session: Session, *, actor: Actor, key_id: int) -> ApiKey:
    """Stop a key from working at once; the row is kept (when, and for whom it was)."""
    check_admin(actor)
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"there is no API key {key_id}", key=key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    session.flush()
    return key
