"""`mapapp backup` and `mapapp restore`: one tar archive with the database and the photo files, consistent.

The backup exports a snapshot from a REPEATABLE READ transaction, runs `pg_dump --snapshot` on it, and
copies exactly the photo files that the photo rows of that snapshot name, while holding the advisory
lock that photo cleanup takes, so no file the snapshot names can be deleted under it. A file written
after the snapshot belongs to a report the dump does not have, and is left out.

Archive layout (uncompressed tar: the dump is compressed already, photos are JPEG):
    database.dump      pg_dump custom format
    media/<key>        every photo file the dump's `photos` rows name
    manifest.json      format, time, database, revision, counts, and the sha256 of every file
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.photos.cleanup import PHOTO_FILES_LOCK

FORMAT = "mapapp-backup/1"
DUMP_NAME = "database.dump"
MANIFEST_NAME = "manifest.json"
MEDIA_PREFIX = "media/"


class BackupFailed(DomainError):
    code = "backup_failed"
    status = 500


class RestoreRefused(DomainError):
    """The target is not empty, or the archive is not one of ours: nothing was changed."""

    code = "restore_refused"
    status = 409


@dataclass(frozen=True)
class Summary:
    """What an archive holds."""

    reports: int
    photos: int
    files: int
    bytes: int
    missing: tuple[str, ...] = ()  # files a photo row names but the store did not have (backup only)


def _libpq_env(url: str) -> dict[str, str]:
    """PG* variables for pg_dump/pg_restore from our SQLAlchemy URL (host may be a socket directory)."""
    u = make_url(url)
    env = dict(os.environ)
    host = u.host or u.query.get("host")
    for name, value in (
        ("PGHOST", host if isinstance(host, str) else None),
        ("PGPORT", str(u.port) if u.port else None),
        ("PGUSER", u.username),
        ("PGPASSWORD", u.password),
        ("PGDATABASE", u.database),
    ):
        if value:
            env[name] = value
    return env


def _pg_tool(name: str, conn: Connection) -> str:
    """pg_dump or pg_restore of the server's major version when installed, else the newest, else PATH."""
    major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/{name}")]
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: -int(p.parts[-3]))
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupFailed(f"{name} not found: install the PostgreSQL {major} client (postgresql-client-{major})")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupFailed(f"{Path(command[0]).name} failed: {lines[-1] if lines else result.returncode}")


def _engine(url: str | None) -> Engine:
    return create_engine(url or get_settings().database_url, poolclass=NullPool)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))


def backup(path: Path, *, url: str | None = None, media_dir: Path | None = None) -> Summary:
    """Write the archive to `path` (atomically: a failed backup leaves no file)."""
    url = url or get_settings().database_url
    media_dir = media_dir or get_settings().media_dir
    engine = _engine(url)
    partial = path.with_name(path.name + ".partial")
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock_conn:
            # Cleanup waits while we copy; we wait for a cleanup already running.
            lock_conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PHOTO_FILES_LOCK})
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as snap, snap.begin():
                snap.execute(text("SET TRANSACTION READ ONLY"))
                snapshot = snap.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                keys = sorted(
                    {k for row in snap.execute(text("SELECT display_key, thumb_key FROM photos")) for k in row}
                )
                facts = dict(
                    snap.execute(
                        text(
                            "SELECT current_database() AS database, "
                            "(SELECT version_num FROM alembic_version LIMIT 1) AS revision, "
                            "(SELECT count(*) FROM reports) AS reports, (SELECT count(*) FROM photos) AS photos"
                        )
                    )
                    .mappings()
                    .one()
                )
                pg_dump = _pg_tool("pg_dump", snap)
                with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as tmp:
                    dump = Path(tmp) / DUMP_NAME
                    _run(
                        [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", "--no-sync"],
                        _libpq_env(url),
                    )
                    summary = _write_archive(partial, dump, media_dir, keys, facts)
            lock_conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PHOTO_FILES_LOCK})
        os.replace(partial, path)
        return summary
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()


def _write_archive(partial: Path, dump: Path, media_dir: Path, keys: list[str], facts: dict[str, Any]) -> Summary:
    checksums: dict[str, str] = {}
    missing: list[str] = []
    total = dump.stat().st_size
    with tarfile.open(partial, "w") as tar:
        with dump.open("rb") as f:
            checksums[DUMP_NAME] = hashlib.file_digest(f, "sha256").hexdigest()
        tar.add(dump, arcname=DUMP_NAME)
        for key in keys:
            try:
                data = (media_dir / key).read_bytes()
            except FileNotFoundError:
                missing.append(key)
                continue
            checksums[MEDIA_PREFIX + key] = hashlib.sha256(data).hexdigest()
            total += len(data)
            _add_bytes(tar, MEDIA_PREFIX + key, data)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **facts,
            "files": len(checksums) - 1,
            "missing": missing,
            "sha256": checksums,
        }
        _add_bytes(tar, MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
    return Summary(
        reports=facts["reports"], photos=facts["photos"], files=len(checksums) - 1, bytes=total, missing=tuple(missing)
    )


def _user_tables(conn: Connection) -> int:
    """Tables, views and sequences outside the system schemas that no extension owns (PostGIS's are fine)."""
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"
            )
        ).scalar_one()
    )


def _stored_files(media_dir: Path) -> int:
    return sum(1 for p in media_dir.rglob("*") if p.is_file()) if media_dir.exists() else 0


def _safe_key(name: str) -> str:
    """The photo key of an archive member, refusing absolute paths and `..` (an archive is not trusted)."""
    key = PurePosixPath(name.removeprefix(MEDIA_PREFIX))
    if key.is_absolute() or ".." in key.parts or not key.parts:
        raise RestoreRefused(f"the archive has an unsafe file name: {name!r}")
    return str(key)


def restore(path: Path, *, url: str | None = None, media_dir: Path | None = None) -> Summary:
    """Load the archive into an empty database and an empty photo store; refuse anything else, changing nothing."""
    url = url or get_settings().database_url
    media_dir = media_dir or get_settings().media_dir
    engine = _engine(url)
    with _open_archive(path) as tar:
        try:
            member = tar.extractfile(MANIFEST_NAME)
            manifest = json.loads(member.read()) if member else {}
        except (KeyError, ValueError) as exc:
            raise RestoreRefused(f"{path} is not a mapapp backup (no manifest)") from exc
        if manifest.get("format") != FORMAT:
            raise RestoreRefused(f"{path} is not a mapapp backup (format {manifest.get('format')!r})")
        with engine.connect() as conn:
            tables, database = _user_tables(conn), conn.execute(text("SELECT current_database()")).scalar_one()
            pg_restore = _pg_tool("pg_restore", conn)
        if tables:
            raise RestoreRefused(
                f"database {database} is not empty ({tables} tables): restore into a new one "
                "(createdb NAME, then MAPAPP_DATABASE_URL=…/NAME mapapp restore FILE)"
            )
        if files := _stored_files(media_dir):
            raise RestoreRefused(f"photo store {media_dir} is not empty ({files} files): restore needs an empty one")
        media_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=media_dir.parent, prefix=".restore-"))
        try:
            size = _extract(tar, manifest, staging)
            _run(
                [
                    pg_restore,
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-owner",
                    "--no-acl",
                    f"--dbname={make_url(url).database}",
                    str(staging / DUMP_NAME),
                ],
                _libpq_env(url),
            )
            (staging / DUMP_NAME).unlink()
            media_dir.mkdir(parents=True, exist_ok=True)
            for file in sorted(p for p in staging.rglob("*") if p.is_file()):
                target = media_dir / file.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            engine.dispose()
    return Summary(reports=manifest["reports"], photos=manifest["photos"], files=manifest["files"], bytes=size)


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:")
    except (OSError, tarfile.TarError) as exc:
        raise RestoreRefused(f"{path} is not a mapapp backup ({exc})") from exc


def _extract(tar: tarfile.TarFile, manifest: dict[str, Any], staging: Path) -> int:
    """Write the dump and the photo files under `staging`, each checked against the manifest's sha256."""
    expected: dict[str, str] = manifest.get("sha256", {})
    seen, size = set(), 0
    for member in tar:
        if member.name == MANIFEST_NAME:
            continue
        if member.name != DUMP_NAME and not member.name.startswith(MEDIA_PREFIX):
            raise RestoreRefused(f"the archive has an unexpected member: {member.name!r}")
        if not member.isfile():
            raise RestoreRefused(f"the archive has a member that is not a file: {member.name!r}")
        target = staging / (DUMP_NAME if member.name == DUMP_NAME else _safe_key(member.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        assert source is not None
        digest = hashlib.sha256()
        with target.open("wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected.get(member.name):
            raise RestoreRefused(f"the archive is damaged: {member.name} does not match its checksum")
        seen.add(member.name)
        size += member.size
    if lost := set(expected) - seen:
        raise RestoreRefused(f"the archive is incomplete: {len(lost)} files missing, e.g. {sorted(lost)[0]}")
    return size
