"""The `mapapp` command: every administrative action, one transaction per command."""

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import psycopg2
import sqlalchemy.engine
import sqlalchemy.exc
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mapapp import models as _models  # noqa: F401  (every table known before the first query)
from mapapp.core.actors import Actor
from mapapp.core.db import transaction
from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings

app = typer.Typer(
    help="mapapp: a community hazard-reporting map. Set-up, boundaries, layers, offices, routing and the server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
boundaries_app = typer.Typer(
    help="Import jurisdiction polygons (city, districts, dong) from vector files.", no_args_is_help=True
)
jurisdictions_app = typer.Typer(help="Create and list jurisdictions.", no_args_is_help=True)
offices_app = typer.Typer(help="City and district offices that reports are routed to.", no_args_is_help=True)
layers_app = typer.Typer(help="Map layers and categories, defined as data in layers/*.yaml.", no_args_is_help=True)
reports_app = typer.Typer(help="Bulk operations on stored reports.", no_args_is_help=True)
apikeys_app = typer.Typer(
    help="API keys for Open311 clients and other software that posts reports.", no_args_is_help=True
)
users_app = typer.Typer(help="Staff accounts: administrators, triage, office managers and staff.", no_args_is_help=True)
photos_app = typer.Typer(help="Stored photo files.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data: Seoul's real districts and dong, offices and reports.", no_args_is_help=True)
stack_app = typer.Typer(
    help="The whole topology on loopback: primary, replica, PgBouncer, app processes, worker, S3, nginx.",
    no_args_is_help=True,
)
for sub, name in (
    (db_app, "db"),
    (boundaries_app, "boundaries"),
    (jurisdictions_app, "jurisdictions"),
    (offices_app, "offices"),
    (layers_app, "layers"),
    (reports_app, "reports"),
    (apikeys_app, "apikeys"),
    (users_app, "users"),
    (photos_app, "photos"),
    (demo_app, "demo"),
    (stack_app, "stack"),
):
    app.add_typer(sub, name=name)

console = Console(soft_wrap=True)
# Whoever can run the command on the server is the city administrator.
CLI_ACTOR = Actor(user_id=0, email="cli", role="admin", office_id=None)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _command() -> Iterator[None]:
    """Turn domain and configuration errors into a clear message and exit code 2."""
    try:
        get_settings()
        yield
    except ValidationError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except DomainError as exc:
        err.print(f"[red]error ({exc.code}):[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from exc
    except (sqlalchemy.exc.OperationalError, psycopg2.OperationalError) as exc:
        url = sqlalchemy.engine.make_url(get_settings().database_url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(
            f"[red]cannot reach the database[/red] {url}: {reason}\n"
            "  Start PostgreSQL and create the database (`make run` does both), or set MAPAPP_DATABASE_URL.",
            highlight=False,
        )
        raise typer.Exit(2) from exc
    except (sqlalchemy.exc.ProgrammingError, psycopg2.ProgrammingError) as exc:
        if _database_revision_or_none() == _head_revision():
            raise
        err.print(
            "[red]the database is not migrated to this version of mapapp[/red]: run `mapapp db upgrade`",
            highlight=False,
        )
        raise typer.Exit(2) from exc


def _database_revision_or_none() -> str | None:
    try:
        return _database_revision()
    except sqlalchemy.exc.SQLAlchemyError:
        return None


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


# --- server -------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default MAPAPP_HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MAPAPP_PORT or 8000)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default MAPAPP_WORKERS, else one per core)")
    ] = None,
) -> None:
    """Run the web service (map, API, Open311)."""
    import uvicorn

    with _command():
        settings = get_settings()
        host, port = host or settings.host, port or settings.port
        workers = workers or default_workers()
        _check_assets(settings.static_dir, settings.vendor_dir)
        _check_port_free(host, port)
        console.print(
            f"mapapp is serving on [bold]http://{host}:{port}/[/bold]  (API docs: /docs; {workers} worker processes)"
        )
        uvicorn.run(
            "mapapp.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # A new worker process imports the whole app before it can answer the supervisor's ping; on a
            # busy machine that takes longer than uvicorn's 5 s, and the workers were killed and restarted
            # in a loop, never serving.
            timeout_worker_healthcheck=60,
            log_level="info",
            # X-Forwarded-For is read by mapapp itself, and only from MAPAPP_TRUSTED_PROXIES: uvicorn's own
            # rewrite would believe any client on 127.0.0.1 whatever the settings say.
            proxy_headers=False,
        )


def default_workers() -> int:
    """MAPAPP_WORKERS, else one web process per core: one process would leave the other cores idle."""
    return get_settings().workers or max(os.cpu_count() or 1, 1)


def _check_assets(static_dir: Path, vendor_dir: Path) -> None:
    """Refuse to serve a map that would 404 its own scripts; say the command that installs them."""
    from mapapp.app import VENDOR

    missing = [str(vendor_dir / folder) for folder in VENDOR.values() if not (vendor_dir / folder).is_dir()]
    if not (static_dir / "js").is_dir():
        missing.append(str(static_dir / "js"))
    if missing:
        err.print(
            f"[red]the map's browser assets are missing[/red] ({', '.join(missing)}). In a checkout run "
            "`npm ci --ignore-scripts` (or `make run`); an installed package carries them only when it was built "
            "from a checkout that had them.",
            highlight=False,
        )
        raise typer.Exit(2)


def _check_port_free(host: str, port: int) -> None:
    """Say so in one line, before anything claims to be serving, when the address is taken."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            err.print(
                f"[red]cannot serve on {host}:{port}[/red]: {exc.strerror}. "
                "Stop the other server there, or choose another port with --port.",
                highlight=False,
            )
            raise typer.Exit(2) from exc


# --- database -----------------------------------------------------------------------------------


def _alembic_config() -> Any:
    from alembic.config import Config

    from mapapp.core.settings import ASSETS_DIR

    root = ASSETS_DIR
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    return config


def _database_revision() -> str | None:
    """The revision the configured database is at (None: not migrated at all)."""
    from alembic.runtime.migration import MigrationContext

    from mapapp.core.db import get_engine

    with get_engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from alembic import command

    with _command():
        before = _database_revision()
        command.upgrade(_alembic_config(), revision)
        after = _database_revision()
        if before == after:
            console.print(f"database already at revision {after}: nothing to do")
        else:
            console.print(f"database migrated from revision {before or 'empty'} to {after}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base")]) -> None:
    """Undo migrations down to REVISION."""
    from alembic import command

    with _command():
        before = _database_revision()
        command.downgrade(_alembic_config(), revision)
        console.print(f"database downgraded from revision {before or 'empty'} to {_database_revision() or 'empty'}")


@db_app.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    from alembic import command

    with _command():
        command.current(_alembic_config())


# --- boundaries and jurisdictions --------------------------------------------------------------------


@boundaries_app.command("import")
def boundaries_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile (.shp), GeoPackage or any file GDAL reads")],
    level: Annotated[str, typer.Option(help="city, district or dong")],
    code_field: Annotated[str, typer.Option(help="Field holding the jurisdiction code, e.g. SIG_CD")],
    name_field: Annotated[str, typer.Option(help="Field holding the local name, e.g. SIG_KOR_NM or boro_name")],
    name_en_field: Annotated[str | None, typer.Option(help="Field holding the English name, e.g. SIG_ENG_NM")] = None,
    source_crs: Annotated[str | None, typer.Option(help="CRS of the file, overriding its own (e.g. EPSG:5174)")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of the attributes, e.g. cp949")] = None,
    parent: Annotated[
        str | None, typer.Option(help="Code of the parent jurisdiction (default: found spatially)")
    ] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Import the good features and skip the bad ones")] = False,
) -> None:
    """Replace one level of jurisdictions with the polygons of FILE, in one transaction."""
    from mapapp import jurisdictions

    with _command(), _progress(f"reading {file.name}") as progress, transaction() as session:
        summary = jurisdictions.import_boundaries(
            session,
            path=file,
            level=level,
            code_field=code_field,
            name_field=name_field,
            name_en_field=name_en_field,
            source_crs=source_crs,
            encoding=encoding,
            parent_code=parent,
            skip_invalid=skip_invalid,
            progress=progress,
        )
    console.print(
        f"imported {summary.imported} {summary.level} jurisdictions from {summary.features} features "
        f"({summary.vertices:,} vertices, source CRS {summary.source_crs})\n"
        f"  created {len(summary.created)}, updated {len(summary.updated)}, retired {len(summary.retired)}, "
        f"repaired {summary.repaired} invalid polygons, merged {summary.merged} features sharing a code, "
        f"{summary.parts} subdivided parts"
    )
    if summary.skipped:
        console.print(f"  skipped {len(summary.skipped)} features:")
        for line in summary.skipped:
            console.print(f"    {line}", highlight=False)


@boundaries_app.command("summary")
def boundaries_summary_cmd() -> None:
    """How many jurisdictions, parts and vertices each level has."""
    from mapapp import jurisdictions

    with _command(), transaction() as session:
        rows = jurisdictions.boundaries_summary(session)
    table = Table("level", "jurisdictions", "retired", "vertices", "parts")
    for row in rows:
        table.add_row(row["level"], str(row["active"]), str(row["retired"]), f"{row['vertices']:,}", str(row["parts"]))
    console.print(table)


@jurisdictions_app.command("create")
def jurisdictions_create(
    code: Annotated[str, typer.Option(help="Code in your own numbering, e.g. 11 or NYC")],
    name: Annotated[str, typer.Option(help="Local name, shown on ko pages (e.g. 서울특별시, New York)")],
    name_en: Annotated[str, typer.Option(help="English name")],
    level: Annotated[str, typer.Option(help="city, district or dong")] = "city",
    parent: Annotated[str | None, typer.Option(help="Code of the parent")] = None,
) -> None:
    """Create a jurisdiction whose area is the union of its children (e.g. the city over its districts)."""
    from mapapp import jurisdictions

    with _command(), transaction() as session:
        row = jurisdictions.create_jurisdiction(
            session, code=code, name_ko=name, name_en=name_en, level=level, parent_code=parent
        )
        console.print(f"created {row.level} {row.code} {row.name_ko} ({row.name_en})")


# --- offices --------------------------------------------------------------------------------------


@offices_app.command("create")
def offices_create(
    jurisdiction: Annotated[str, typer.Option(help="Code of the jurisdiction the office serves")],
    department: Annotated[str, typer.Option(help="Department slug used by categories, e.g. roads")],
    name: Annotated[str, typer.Option(help="Local name, shown on ko pages (e.g. 서울특별시, New York)")],
    name_en: Annotated[str, typer.Option(help="English name")],
    slug: Annotated[str | None, typer.Option(help="Slug (default: CODE-department)")] = None,
    email: Annotated[str | None, typer.Option(help="Where new-report notices go")] = None,
) -> None:
    """Create an office: one department of the city or of a district."""
    from mapapp.offices import service as offices

    with _command(), transaction() as session:
        office = offices.create_office(
            session,
            jurisdiction_code=jurisdiction,
            department=department,
            name_ko=name,
            name_en=name_en,
            slug=slug,
            email=email,
        )
        console.print(f"created office {office.slug}")


@offices_app.command("list")
def offices_list() -> None:
    """List every office."""
    from mapapp.offices import service as offices

    with _command(), transaction() as session:
        table = Table("slug", "department", "name", "name (en)", "active")
        for office in offices.list_offices(session):
            table.add_row(office.slug, office.department, office.name_ko, office.name_en, str(office.active))
    console.print(table)


# --- layers ---------------------------------------------------------------------------------------


@layers_app.command("sync")
def layers_sync(
    directory: Annotated[Path | None, typer.Option("--dir", help="Folder of layer files (default layers/)")] = None,
) -> None:
    """Validate layers/*.yaml and write layers and categories to the database."""
    from mapapp.layers import service as layers

    with _command():
        definitions = layers.load_layer_files(directory or get_settings().layers_dir)
        with transaction() as session:
            summary = layers.sync_layers(session, definitions)
        console.print(
            f"layers: {len(summary.created)} created, {len(summary.updated)} updated; categories: "
            f"{len(summary.categories_created)} created, {len(summary.categories_retired)} retired"
        )


@layers_app.command("activate")
def layers_activate(
    slug: Annotated[str, typer.Argument(help="Disaster layer, e.g. flood")],
    banner_ko: Annotated[str | None, typer.Option(help="Banner in Korean (e.g. evacuation advice)")] = None,
    banner_en: Annotated[str | None, typer.Option(help="Banner in English")] = None,
    until: Annotated[str | None, typer.Option(help="End time, ISO 8601 with timezone")] = None,
) -> None:
    """Open a disaster layer for reports; maps and widgets show it within seconds."""
    from datetime import datetime

    from mapapp.layers import service as layers

    with _command(), transaction() as session:
        end = datetime.fromisoformat(until) if until else None
        layer = layers.activate_layer(
            session, actor=CLI_ACTOR, slug=slug, banner_ko=banner_ko, banner_en=banner_en, until=end
        )
        console.print(f"{layer.slug} is active" + (f" until {layer.active_until}" if layer.active_until else ""))


@layers_app.command("deactivate")
def layers_deactivate(slug: Annotated[str, typer.Argument(help="Disaster layer, e.g. flood")]) -> None:
    """Close a disaster layer; its reports stay, read-only."""
    from mapapp.layers import service as layers

    with _command(), transaction() as session:
        layers.deactivate_layer(session, actor=CLI_ACTOR, slug=slug)
        console.print(f"{slug} is inactive")


@layers_app.command("list")
def layers_list() -> None:
    """List layers, their state and categories."""
    from mapapp.layers import service as layers

    with _command(), transaction() as session:
        table = Table("layer", "kind", "state", "categories")
        for layer in layers.list_layers(session, states=("active", "inactive", "archived")):
            slugs = ", ".join(c.slug for c in layers.list_categories(session, layer_id=layer.id))
            table.add_row(layer.slug, layer.kind, layer.effective_state, slugs)
    console.print(table)


# --- routing --------------------------------------------------------------------------------------


class Language(StrEnum):
    ko = "ko"
    en = "en"


# ignore_unknown_options: a western longitude such as -73.98 is an argument, not an unknown option.
@app.command("route", context_settings={"ignore_unknown_options": True})
def route_cmd(
    lon: Annotated[float, typer.Argument(help="Longitude (WGS84), e.g. 126.90 or -73.98")],
    lat: Annotated[float, typer.Argument(help="Latitude (WGS84)")],
    category: Annotated[str, typer.Option(help="Category slug, e.g. streetlight-out")],
    lang: Annotated[Language, typer.Option(help="Language of the names and the reason")] = Language.en,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON")] = False,
) -> None:
    """Show which office a report at LON LAT in CATEGORY would go to, and why."""
    from mapapp import routing

    with _command(), transaction() as session:
        decision = routing.route(session, lon=lon, lat=lat, category=category)
    if as_json:
        print(
            json.dumps(
                {
                    "office": decision.office.slug if decision.office else None,
                    "triage": decision.triage,
                    "jurisdictions": [
                        {"level": j.level, "code": j.code, "name_ko": j.name_ko, "name_en": j.name_en}
                        for j in decision.jurisdictions
                    ],
                    "method": decision.method,
                    "rule": decision.rule,
                    "reason_code": decision.reason_code,
                    "reason": decision.reason(lang.value),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    office = decision.office
    console.print(
        f"office:   {office.slug + '  ' + (office.name_ko if lang == 'ko' else office.name_en) if office else 'TRIAGE'}"
    )
    for j in decision.jurisdictions:
        console.print(f"{j.level + ':':9} {j.code}  {j.name_ko} ({j.name_en})")
    console.print(f"rule:     {decision.rule}")
    console.print(f"reason:   {decision.reason(lang.value)}", highlight=False)


@reports_app.command("reroute")
def reports_reroute() -> None:
    """Route every stored report again after boundaries or offices changed (set-based, one transaction)."""
    from mapapp import routing
    from mapapp.jurisdictions import places

    with _command(), _progress("re-routing reports") as progress, transaction() as session:
        summary = routing.reroute_reports(session, progress=progress)
        placed = places.fill_report_dong(session)  # reports written in bulk, or before the dong were imported
    console.print(
        f"checked {summary.checked:,} reports ({summary.candidates:,} decided again): "
        f"{summary.relocated:,} changed district, "
        f"{summary.moved:,} open reports moved office ({summary.triage:,} to triage); "
        f"{placed:,} given their dong"
    )


@apikeys_app.command("create")
def apikeys_create(name: Annotated[str, typer.Argument(help="Who the key is for, e.g. 'district portal'")]) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from mapapp.open311 import service as open311

    with _command(), transaction() as session:
        key = open311.create_api_key(session, name=name)
    console.print(f"API key for {name}: {key}")


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Deliver what is due once, then stop")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls when idle, and between report lines")] = 2.0,
    threads: Annotated[int | None, typer.Option(help="Delivery threads (default MAPAPP_NOTIFY_WORKER_THREADS)")] = None,
) -> None:
    """Deliver the outbox (e-mail over SMTP, signed webhooks) and run the photo cleanup on its schedule.

    Rides out database and peer outages (reconnecting with backoff); several workers may run side by side.
    """
    import logging

    from mapapp.core.db import get_engine
    from mapapp.notify import service as outbox
    from mapapp.notify.replies import ChannelReplySender
    from mapapp.notify.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for chatty in ("httpx", "httpcore"):  # a line per request would bury the worker's own lines
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from mapapp.alerts import service as alerts
    from mapapp.core.settings import get_settings
    from mapapp.notify.worker import PeriodicJob

    with _command():
        jobs = [PeriodicJob("alerts", get_settings().alerts_interval_seconds, alerts.run_pass)]
        if once:
            alerts.run_pass()  # e-mail alerts gathered now go out in this same delivery
            sender = ChannelReplySender()
            try:
                with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    done = outbox.deliver_due(conn, sender=sender)
            finally:
                sender.close()
            reason = f": {done.last_error}" if done.failed else ""
            console.print(f"outbox: {done.sent} sent, {done.failed} to retry{reason}", highlight=False)
            return
        Worker(interval=interval, threads=threads, jobs=jobs).run()


outbox_app = typer.Typer(help="The notification outbox.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("status")
def outbox_status() -> None:
    """One line: pending messages, the age of the oldest, how many failed their last attempt (as /readyz)."""
    from mapapp.core.db import get_engine
    from mapapp.notify import service as outbox

    with _command(), get_engine().connect() as conn:
        console.print(outbox.backlog(conn).line(), highlight=False)


# --- backup and restore ---------------------------------------------------------------------------


@app.command("backup")
def backup_cmd(file: Annotated[Path, typer.Argument(help="The archive to write (a tar file)")]) -> None:
    """Write one archive with the database (pg_dump) and the photo files it refers to, consistent together."""
    from mapapp.ops import backup as ops

    with _command():
        summary = ops.backup(file)
    console.print(
        f"backup written to {file}: {summary.reports} reports, {summary.photos} photos, {summary.files} files, "
        f"{summary.bytes / 1e6:.1f} MB",
        highlight=False,
    )
    if summary.missing:
        err.print(f"[yellow]warning:[/yellow] {len(summary.missing)} photo files named by the database were missing")


@app.command("restore")
def restore_cmd(file: Annotated[Path, typer.Argument(help="An archive written by `mapapp backup`")]) -> None:
    """Load an archive into an empty database (MAPAPP_DATABASE_URL) and an empty photo store (MAPAPP_MEDIA_DIR)."""
    from mapapp.ops import backup as ops

    with _command():
        summary = ops.restore(file)
    console.print(
        f"restored {file}: {summary.reports} reports, {summary.photos} photos, {summary.files} files", highlight=False
    )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Log-in e-mail")],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[str, typer.Option(help="admin, triage, manager or staff")],
    office: Annotated[str | None, typer.Option(help="Office slug (managers and staff)")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Create a staff account (there is no default account: this makes the first administrator)."""
    from mapapp.accounts import service as accounts
    from mapapp.offices import service as offices

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password (12 characters or more)", hide_input=True, confirmation_prompt=True)
    with _command(), transaction() as session:
        office_id = offices.get_office_or_raise(session, slug=office).id if office else None
        user = accounts.create_user(session, email=email, name=name, role=role, password=password, office_id=office_id)
        console.print(f"created {user.role} {user.email}")


@photos_app.command("cleanup")
def photos_cleanup(
    older_than_minutes: Annotated[int, typer.Option(help="Only files at least this old")] = 60,
) -> None:
    """Delete stored image files that no photo row refers to (left by failed submissions)."""
    from mapapp.photos import cleanup

    with _command(), transaction() as session:
        removed = cleanup.remove_unreferenced(session, older_than_seconds=older_than_minutes * 60)
    console.print(f"removed {removed} unreferenced files")


class PhotoTarget(StrEnum):
    s3 = "s3"


@photos_app.command("migrate")
def photos_migrate(
    to: Annotated[PhotoTarget, typer.Option("--to", help="Where to move the photos: s3 (MAPAPP_S3_*)")],
) -> None:
    """Copy the local photo store (MAPAPP_MEDIA_DIR) into the bucket; run it again to resume where it stopped."""
    from mapapp.photos.s3 import S3PhotoStorage, make_client, migrate_local_to_s3

    with _command():
        settings = get_settings()
        if not settings.s3_bucket:
            err.print("[red]error:[/red] set MAPAPP_S3_BUCKET (and MAPAPP_S3_ENDPOINT_URL, AWS_* credentials)")
            raise typer.Exit(2)
        storage = S3PhotoStorage(
            make_client(endpoint_url=settings.s3_endpoint_url, region=settings.s3_region), settings.s3_bucket
        )
        with _progress(f"copying photos to s3://{settings.s3_bucket}") as advance:
            summary = migrate_local_to_s3(settings.media_dir, storage, progress=advance)
    console.print(
        f"{summary.copied} photo files copied to s3://{settings.s3_bucket}, {summary.already_there} already there "
        f"({summary.seconds:.1f} s). Now set MAPAPP_PHOTO_STORAGE=s3 and restart the app processes.",
        highlight=False,
    )


# --- demo -----------------------------------------------------------------------------------------


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option(help="Do nothing (and succeed) when the database already has data")] = False,
    reports: Annotated[int, typer.Option(help="How many demo reports")] = 400,
    seed: Annotated[int, typer.Option(help="Random seed")] = 20261124,
) -> None:
    """Load Seoul: its 25 districts and 425 dong, offices, the layers and demo reports."""
    from mapapp import demo
    from mapapp.layers import service as layers

    with _command():
        definitions = layers.load_layer_files(get_settings().layers_dir)
        with transaction() as session:
            if if_empty and demo.has_data(session):
                console.print("database already has data; demo data not loaded")
                return
            summary = demo.load_demo(session, definitions=definitions, reports=reports, seed=seed)
        console.print(f"demo loaded: {summary}")
        _refresh_public_figures()


@demo_app.command("generate")
def demo_generate(
    reports: Annotated[int, typer.Option(min=1, help="How many reports to add")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed draws the same reports)")] = 1,
    span_days: Annotated[int, typer.Option(min=1, help="Spread the reports' ages over this many days")] = 730,
) -> None:
    """Add many generated reports to the demo city (loading the city first into an empty database).

    Reports cluster around hot spots of every dong, in every category and status, with their routing
    decisions, timelines and photo rows, streamed with COPY. It holds the report tables' locks until it
    commits: run it before serving, not beside a live service.
    """
    from mapapp import demo
    from mapapp.demo.generate import generate_reports
    from mapapp.layers import service as layers

    with _command():
        definitions = layers.load_layer_files(get_settings().layers_dir)
        with transaction() as session:
            demo.refuse_foreign_data(session)
            if not demo.has_data(session):
                console.print(f"demo city loaded: {demo.load_demo(session, definitions=definitions, reports=0)}")
            with _progress("generating reports") as advance:
                summary = generate_reports(session, reports=reports, seed=seed, span_days=span_days, progress=advance)
        console.print(f"generated {summary}")
        _refresh_public_figures()


def _refresh_public_figures() -> None:
    """/stats reads a view rebuilt every few minutes: after a load, rebuild it at once, or the dashboard of a
    freshly loaded city would show nothing until the first refresh."""
    from mapapp.core.db import get_engine
    from mapapp.stats import service as stats

    with transaction() as session:
        seconds = stats.refresh(session)
    if seconds is not None:
        stats.vacuum(get_engine())
        console.print(f"public figures (/stats) computed in {seconds:.1f} s")


# --- public indicators (issue 12) ---------------------------------------------------------------------

stats_app = typer.Typer(help="The public indicators behind /stats and /api/stats.", no_args_is_help=True)
app.add_typer(stats_app, name="stats")


@stats_app.command("refresh")
def stats_refresh() -> None:
    """Rebuild the indicators from the reports and their events now (the pages also do it every few minutes)."""
    from mapapp.core.db import get_engine
    from mapapp.stats import service as stats

    with _command():
        with transaction() as session:
            seconds = stats.refresh(session)
        if seconds is not None:
            stats.vacuum(get_engine())
    console.print("another refresh is running" if seconds is None else f"stats refreshed in {seconds:.1f} s")


# Channel intake (issue 13): channels, intake import/export, gazetteer, the reference connector.
from mapapp.intake.cli import register as _register_intake  # noqa: E402

_register_intake(app)


# --- stack (issue 14) ---------------------------------------------------------------------------


@stack_app.command("up")
def stack_up(
    base_port: Annotated[int, typer.Option(help="First port to try; each server takes the next free one")] = 18700,
    reports: Annotated[int, typer.Option(min=0, help="Reports in the demo city (above 400: generated)")] = 400,
    app_processes: Annotated[int, typer.Option(min=1, max=16, help="mapapp serve processes behind nginx")] = 2,
) -> None:
    """Start the disaster-day topology in a temporary folder (the development database is not touched)."""
    from mapapp.stack import topology

    try:
        stack = topology.up(
            base_port=base_port, reports=reports, app_processes=app_processes, say=lambda m: err.print(f"  {m}")
        )
    except topology.StackError as exc:
        err.print(f"[red]stack:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    console.print(f"stack up in {stack.folder}; `mapapp stack down` removes it", highlight=False)
    console.print(stack.proxy_url, highlight=False)


@stack_app.command("down")
def stack_down(
    folder: Annotated[str | None, typer.Option(help="The stack's folder (default: the one last started)")] = None,
) -> None:
    """Stop the topology started by `mapapp stack up` and remove its folder."""
    from mapapp.stack import topology

    try:
        topology.down(topology.Stack.load(folder), say=lambda m: console.print(m, highlight=False))
    except topology.StackError as exc:
        err.print(f"[red]stack:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc


def main() -> None:
    """Entry point of the `mapapp` console script."""
    app(prog_name="mapapp")


if __name__ == "__main__":
    main()
