"""Staff of every role, logged in with bearer tokens: the authorization matrices of the admin desk,
moderation and the office workflow use them."""

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from tests.factories import office_id

PASSWORD = "correct horse battery staple"
MAPO, GANGNAM = "11440-roads", "11680-roads"
PEOPLE = {
    "admin": ("desk.admin@city.example", "admin", None),
    "triage": ("desk.triage@city.example", "triage", None),
    "mapo_manager": ("desk.manager@mapo.example", "manager", MAPO),
    "mapo_staff": ("desk.staff@mapo.example", "staff", MAPO),
    "gangnam_manager": ("desk.manager@gangnam.example", "manager", GANGNAM),
    "gangnam_staff": ("desk.staff@gangnam.example", "staff", GANGNAM),
}
WHO = [*PEOPLE, None]


def log_everyone_in(client, people: dict[str, tuple[str, str, str | None]] = PEOPLE) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Create the people (name: e-mail, role, office slug) and log each in; their bearer tokens by name."""
    with transaction() as session:
        for email, role, office in people.values():
            accounts.create_user(
                session,
                email=email,
                name=email.split("@")[0],
                role=role,
                password=PASSWORD,
                office_id=office_id(session, office),
            )
    out = {}
    for who, (email, _, _) in people.items():
        response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        out[who] = response.json()["token"]
    client.cookies.clear()  # the API is used with bearer tokens here; cookies are tested on their own
    return out


def auth(tokens: dict[str, str], who: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"} if who else {}


def new_report(client, category="pothole", lat=37.5663, lon=126.9016, **extra) -> str:  # type: ignore[no-untyped-def]
    """A report in Mapo (its roads office, 11440-roads, for a pothole)."""
    response = client.post(
        "/api/reports", json={"layer": "facilities", "category": category, "lat": lat, "lon": lon, **extra}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
