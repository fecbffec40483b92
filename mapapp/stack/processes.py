"""Starting and stopping the servers of the topology: PostgreSQL clusters (initdb, pg_basebackup -R),
PgBouncer, moto's S3 server, nginx. Used by `mapapp stack up` and by the tests in tests/stack/.

PostgreSQL and PgBouncer refuse to run as root: when we are root they run as `postgres`, and their folders
are handed to it. Clusters are made with Debian's own binaries (/usr/lib/postgresql/<major>/bin) inside the
given folder, so that removing the folder removes them; nothing under /etc/postgresql is touched.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def pg_bin(name: str) -> str:
    """A PostgreSQL server program of the newest installed major version (Debian keeps them off PATH)."""
    majors = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*") if (p / "bin" / name).exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not majors:
        found = shutil.which(name)
        if found:
            return found
        raise FileNotFoundError(f"{name} not found: install PostgreSQL (Debian: postgresql)")
    return str(majors[-1] / "bin" / name)


def as_service_user(argv: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: run them as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def hand_over(*paths: Path) -> None:
    """Give folders and files to the service user (when we are root), so it can write there."""
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, *, seconds: float = 60, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited with status {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:.0f} s")


def run(argv: list[str], *, log: Path | None = None) -> None:
    """Run a set-up command; its output goes to `log`, and the end of it into the error when it fails."""
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if log is not None:
        with log.open("ab") as f:
            f.write(out.stdout)
    if out.returncode != 0:
        tail = out.stdout.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}): " + " / ".join(tail))


def stop(process: subprocess.Popen[bytes], *, seconds: float = 15) -> None:
    """SIGTERM, then SIGKILL after `seconds`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- PostgreSQL ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    data: Path
    port: int
    log: Path

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql+psycopg2://{user}@127.0.0.1:{self.port}/{database}?connect_timeout=3"

    def start(self) -> None:
        run(as_service_user([pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start"]))

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            run(as_service_user([pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop"]))

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


PRIMARY_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
max_connections = 200
wal_level = replica
max_wal_senders = 10
hot_standby = on
# A replica's long read is cancelled after this much conflict with replay, not at once.
max_standby_streaming_delay = 5s
hot_standby_feedback = on
shared_buffers = 256MB
logging_collector = off
"""


def init_primary(folder: Path, port: int) -> Cluster:
    """A new cluster in `folder` (trusting loopback, replication allowed), started on `port`."""
    folder.mkdir(parents=True, exist_ok=True)
    hand_over(folder)
    data, log = folder / "data", folder / "postgresql.log"
    run(
        as_service_user(
            [pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
        ),
        log=folder / "initdb.log",
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(PRIMARY_SETTINGS.format(port=port, sockets=folder))
    cluster = Cluster(data, port, log)
    cluster.start()
    return cluster


def init_replica(primary: Cluster, folder: Path, port: int) -> Cluster:
    """A streaming replica of `primary`: pg_basebackup -R (standby.signal and primary_conninfo), on `port`."""
    folder.mkdir(parents=True, exist_ok=True)
    hand_over(folder)
    data = folder / "data"
    run(
        as_service_user(
            [
                pg_bin("pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-D", str(data), "-R", "-X", "stream", "--checkpoint=fast"),
            ]
        ),
        log=folder / "basebackup.log",
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {port}\nunix_socket_directories = '{folder}'\n")
    cluster = Cluster(data, port, folder / "postgresql.log")
    cluster.start()
    return cluster


def create_database(cluster: Cluster, name: str) -> None:
    psql = [pg_bin("psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
    run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'])


def wait_for_replay(primary_url: str, replica_url: str, *, seconds: float = 30) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    primary, replica = create_engine(primary_url, poolclass=NullPool), create_engine(replica_url, poolclass=NullPool)
    try:
        with primary.connect() as conn:
            target = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with replica.connect() as conn:
                if conn.execute(text("SELECT pg_last_wal_replay_lsn() >= :t"), {"t": target}).scalar_one():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the replica did not replay up to {target} within {seconds:.0f} s")
    finally:
        primary.dispose()
        replica.dispose()


# --- PgBouncer, moto, nginx ---------------------------------------------------------------------------


def pgbouncer_config(
    folder: Path,
    *,
    port: int,
    server_host: str,
    server_port: int,
    server_user: str,
    pool_size: int = 20,
    extra_databases: dict[str, str] | None = None,
) -> Path:
    """A transaction-pooling PgBouncer config in `folder`: every database of the server, one login role
    (and `extra_databases`, name = connection string, e.g. the replica's)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "pgbouncer.ini"
    extra = "".join(f"{name} = {conninfo}\n" for name, conninfo in (extra_databases or {}).items())
    config.write_text(
        f"""[databases]
{extra}* = host={server_host} port={server_port} user={server_user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""",
        encoding="utf-8",
    )
    hand_over(folder, config)
    return config


def start_pgbouncer(config: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        as_service_user(["pgbouncer", str(config)]),
        stdout=(config.parent / "pgbouncer.out").open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process=process)
    return process


def start_moto(port: int, log: Path) -> subprocess.Popen[bytes]:
    """moto's standalone S3 server (the real S3 HTTP API, kept in memory) on 127.0.0.1:`port`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process=process)
    return process


NGINX_CONF = """# nginx in front of the app processes: reverse proxy, and a cache for the public reads (issue 14).
# Written by mapapp.stack; deploy/nginx/mapapp.conf is the production version of the same rules.
{user}worker_processes {workers};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}

http {{
    log_format cache '$msec $status $upstream_cache_status $request_time "$request" $upstream_addr';
    access_log {folder}/access.log cache buffer=64k flush=1s;
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
    client_max_body_size 42m;
    keepalive_timeout 30s;

{cache_rules}
    upstream mapapp {{
{servers}
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{port};
        include {folder}/mapapp-locations.conf;
    }}
}}
"""

# Shared by the stack's nginx.conf and deploy/nginx/mapapp.conf (which includes the same text).
CACHE_RULES = """    proxy_cache_path {cache} levels=1:2 keys_zone=mapapp:32m max_size=2g inactive=1h use_temp_path=off;
    # Public answers differ by language only: one cached copy per ko / en / other.
    map $http_accept_language $mapapp_lang {{ default other; ~^ko ko; ~^en en; }}
"""

LOCATIONS = """# Everything goes to the app processes; the public reads are cached here too.
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $http_host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
# A process that is restarting: the next one answers (GET and HEAD only; a POST is never sent twice).
proxy_next_upstream error timeout http_502 http_503;
proxy_next_upstream_tries 2;
proxy_connect_timeout 2s;
proxy_read_timeout 60s;

location / {
    proxy_pass http://mapapp;
}

# The public reads: the app says how long (Cache-Control, ETag); nginx revalidates with If-None-Match, serves the
# stale copy while one request refreshes it, and while the app is down (stale-if-error). A citizen who has just
# submitted (the read-your-writes cookie) and staff (Authorization) always go to the app.
location ~ ^/(api/reports|api/layers|api/jurisdictions|tiles/|open311/|media/|widget\\.js) {
    proxy_pass http://mapapp;
    proxy_cache mapapp;
    proxy_cache_key $request_method$host$request_uri$mapapp_lang;
    proxy_cache_revalidate on;
    proxy_cache_background_update on;
    proxy_cache_lock on;
    proxy_cache_lock_timeout 5s;
    proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
    proxy_cache_bypass $cookie_mapapp_wrote $http_authorization;
    proxy_no_cache $cookie_mapapp_wrote $http_authorization;
    add_header X-Cache $upstream_cache_status always;
}

# Our own scripts and styles carry no Cache-Control of their own: a short time here.
location /static/ {
    proxy_pass http://mapapp;
    proxy_cache mapapp;
    proxy_cache_key $request_method$host$request_uri;
    proxy_cache_valid 200 10m;
    proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
    add_header X-Cache $upstream_cache_status always;
}
"""


def nginx_config(folder: Path, *, port: int, app_ports: list[int], workers: int = 1) -> Path:
    """nginx.conf (and its locations) in `folder`, proxying to the app processes on `app_ports`."""
    for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi", "cache"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # One failed answer does not take a process out: it may be one request cut by a database restart.
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in app_ports)
    user = ""
    if os.geteuid() == 0:  # the workers drop to www-data (Debian's nginx user), which must own its folders
        user = "user www-data;\n"
        for path in [folder, *folder.rglob("*")]:
            shutil.chown(path, "www-data", "www-data")
    (folder / "mapapp-locations.conf").write_text(LOCATIONS, encoding="utf-8")
    config = folder / "nginx.conf"
    config.write_text(
        NGINX_CONF.format(
            user=user,
            workers=workers,
            folder=folder,
            port=port,
            servers=servers,
            cache_rules=CACHE_RULES.format(cache=folder / "cache"),
        ),
        encoding="utf-8",
    )
    return config


def start_nginx(config: Path, port: int) -> subprocess.Popen[bytes]:
    """nginx in the foreground (a child we can stop), with its own prefix and config."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    argv = [nginx, "-p", str(config.parent), "-c", str(config), "-g", "daemon off;"]
    run([*argv[:-2], "-t", "-q"])  # a bad config fails here, with nginx's own message
    process = subprocess.Popen(argv, stdout=(config.parent / "nginx.out").open("ab"), stderr=subprocess.STDOUT)
    wait_for_port(port, process=process)
    return process


def start_app(port: int, env: dict[str, str], log: Path, *, workers: int = 1) -> subprocess.Popen[bytes]:
    """One `mapapp serve` (its own processes), with `env` on top of ours."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mapapp.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=os.environ | env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process=process, seconds=120)
    return process
