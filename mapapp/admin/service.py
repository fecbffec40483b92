"""What city administrators look after, in one read: layers, offices and staff, users, boundaries."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp import jurisdictions
from mapapp.core.actors import Actor, Forbidden
from mapapp.layers import service as layers


def overview(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Layers with categories and state, offices with staff counts, users, boundaries — administrators only."""
    if not actor.is_admin:
        raise Forbidden("the administration pages are for city administrators")
    layer_rows = [
        {
            "slug": layer.slug,
            "name": {"ko": layer.name_ko, "en": layer.name_en},
            "kind": layer.kind,
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
                }
                for c in layers.list_categories(session, layer_id=layer.id)
            ],
        }
        for layer in layers.list_layers(session, states=("active", "inactive", "archived"))
    ]
    offices = [
        dict(r)
        for r in session.execute(
            text(
                """
        SELECT o.slug, o.name_ko, o.name_en, o.department, j.code AS jurisdiction, o.active,
               (SELECT count(*) FROM users u WHERE u.office_id = o.id AND u.active) AS staff
        FROM offices o JOIN jurisdictions j ON j.id = o.jurisdiction_id ORDER BY o.slug
        """
            )
        ).mappings()
    ]
    users = [
        dict(r)
        for r in session.execute(
            text(
                "SELECT u.email, u.name, u.role, o.slug AS office, u.active FROM users u "
                "LEFT JOIN offices o ON o.id = u.office_id ORDER BY u.role, u.email"
            )
        ).mappings()
    ]
    return {
        "layers": layer_rows,
        "offices": offices,
        "users": users,
        "boundaries": jurisdictions.boundaries_summary(session),
    }
