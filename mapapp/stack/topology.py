"""`mapapp stack up` / `mapapp stack down`: the disaster-day topology on loopback, in one folder.

    nginx (cache) ─┬─ mapapp serve #1 ─┐                 ┌─ primary  (writes, staff reads)
                   └─ mapapp serve #2 ─┴─ PgBouncer ─────┤      │ streaming replication
    mapapp worker ─────────────────────────┘             └─ replica  (public reads)
    moto (S3 API) ← photos of every process

Nothing outside the folder is touched (the development database included): the clusters are made with
initdb and pg_basebackup inside it, and every server listens on 127.0.0.1. The folder's `stack.json` says
what runs where; `mapapp stack down` stops it all and removes the folder.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mapapp.stack import processes

CURRENT = Path(tempfile.gettempdir()) / f"mapapp-stack-{os.getuid()}.json"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "stack",
    "AWS_SECRET_ACCESS_KEY": "stack-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BUCKET = "mapapp-photos"


class StackError(RuntimeError):
    """The stack cannot be started or found; the message says why."""


@dataclass
class Stack:
    folder: str
    ports: dict[str, int]
    pids: dict[str, int] = field(default_factory=dict)
    app_env: dict[str, str] = field(default_factory=dict)
    primary_url: str = ""
    replica_url: str = ""

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['nginx']}"

    def app_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'app{i}']}"

    def cluster(self, name: str) -> processes.Cluster:
        base = Path(self.folder) / name
        return processes.Cluster(base / "data", self.ports[name], base / "postgresql.log")

    def save(self) -> None:
        (Path(self.folder) / "stack.json").write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        CURRENT.write_text(json.dumps({"folder": self.folder}), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | None = None) -> "Stack":
        if folder is None:
            if not CURRENT.exists():
                raise StackError("no stack is running (mapapp stack up starts one)")
            folder = json.loads(CURRENT.read_text(encoding="utf-8"))["folder"]
        path = Path(folder) / "stack.json"
        if not path.exists():
            raise StackError(f"{path} does not exist: no stack there")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _ports(base: int, names: list[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    port = base
    for name in names:
        while not processes.port_is_free(port):
            port += 1
        ports[name] = port
        port += 1
    return ports


def _spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A child in its own session: it outlives `mapapp stack up`, and `stack down` stops it by its pid."""
    return subprocess.Popen(
        argv,
        env=os.environ | (env or {}),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def up(
    *,
    base_port: int = 18700,
    reports: int = 400,
    app_processes: int = 2,
    workers_per_app: int = 1,
    say: Callable[[str], None] = print,
) -> Stack:
    """Start the topology; returns when nginx answers through to the app processes."""
    if CURRENT.exists():
        try:
            running = Stack.load()
            raise StackError(f"a stack is already up in {running.folder} (mapapp stack down first)")
        except StackError as exc:
            if "already up" in str(exc):
                raise
    for program in ("pgbouncer", "nginx"):
        if not shutil.which(program) and not Path(f"/usr/sbin/{program}").exists():
            raise StackError(f"{program} is not installed (Debian: apt-get install {program}; make test does it)")
    folder = Path(tempfile.mkdtemp(prefix="mapapp-stack-"))
    folder.chmod(0o755)
    names = ["primary", "replica", "pgbouncer", "s3", "nginx"] + [f"app{i}" for i in range(app_processes)]
    stack = Stack(folder=str(folder), ports=_ports(base_port, names))
    stack.save()
    try:
        _start(stack, folder, reports=reports, app_processes=app_processes, workers_per_app=workers_per_app, say=say)
    except BaseException:
        say("start failed; removing what was started")
        down(stack, say=say)
        raise
    return stack


def _start(
    stack: Stack, folder: Path, *, reports: int, app_processes: int, workers_per_app: int, say: Callable[[str], None]
) -> None:
    from sqlalchemy import create_engine, text

    ports = stack.ports
    say(f"primary PostgreSQL on {ports['primary']}")
    primary = processes.init_primary(folder / "primary", ports["primary"])
    processes.create_database(primary, "mapapp")
    stack.primary_url = primary.url("mapapp")
    stack.save()
    base_env = {
        "MAPAPP_DATABASE_URL": stack.primary_url,
        "MAPAPP_MEDIA_DIR": str(folder / "media"),
        "MAPAPP_ENVIRONMENT": "development",
        "MAPAPP_SECRET_KEY": secrets.token_urlsafe(48),
    }
    say(f"moto (S3 API) on {ports['s3']}")
    moto = _spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(ports["s3"])], folder / "moto.log")
    processes.wait_for_port(ports["s3"], process=moto)
    stack.pids["s3"] = moto.pid
    stack.save()
    s3_env = {
        **S3_CREDENTIALS,
        "MAPAPP_PHOTO_STORAGE": "s3",
        "MAPAPP_S3_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}",
        "MAPAPP_S3_BUCKET": BUCKET,
    }
    os.environ.update(S3_CREDENTIALS)
    from mapapp.photos.s3 import ensure_bucket, make_client

    ensure_bucket(make_client(endpoint_url=s3_env["MAPAPP_S3_ENDPOINT_URL"], region="us-east-1"), BUCKET)

    say("schema, layers and the demo city" + (f" with {reports} generated reports" if reports > 400 else ""))
    cli = [sys.executable, "-m", "mapapp.cli"]
    env = os.environ | base_env | s3_env
    for argv in (["db", "upgrade"], ["layers", "sync"], ["demo", "load", "--reports", str(min(reports, 400))]):
        _run_env([*cli, *argv], env, folder)
    if reports > 400:
        _run_env([*cli, "demo", "generate", "--reports", str(reports - 400)], env, folder)
    engine = create_engine(stack.primary_url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()

    say(f"streaming replica (pg_basebackup -R) on {ports['replica']}")
    processes.init_replica(primary, folder / "replica", ports["replica"])
    stack.replica_url = f"postgresql+psycopg2://postgres@127.0.0.1:{ports['replica']}/mapapp?connect_timeout=3"

    say(f"PgBouncer (transaction pooling) on {ports['pgbouncer']}")
    bouncer_dir = folder / "pgbouncer"
    config = processes.pgbouncer_config(
        bouncer_dir,
        port=ports["pgbouncer"],
        server_host="127.0.0.1",
        server_port=ports["primary"],
        server_user="postgres",
        pool_size=40,
        extra_databases={"mapapp_replica": f"host=127.0.0.1 port={ports['replica']} dbname=mapapp user=postgres"},
    )
    bouncer = _spawn(processes.as_service_user(["pgbouncer", str(config)]), bouncer_dir / "pgbouncer.out")
    processes.wait_for_port(ports["pgbouncer"], process=bouncer)
    stack.pids["pgbouncer"] = bouncer.pid
    stack.save()

    bouncer_url = f"postgresql+psycopg2://postgres@127.0.0.1:{ports['pgbouncer']}"
    stack.app_env = {
        **base_env,
        **s3_env,
        "MAPAPP_DATABASE_URL": f"{bouncer_url}/mapapp",
        "MAPAPP_READ_DATABASE_URL": f"{bouncer_url}/mapapp_replica",
        "MAPAPP_DATABASE_POOLER": "pgbouncer-transaction",
        "MAPAPP_TRUSTED_PROXIES": "127.0.0.1",
        "MAPAPP_TILE_URL": "",
        "MAPAPP_SMTP_PORT": "2525",  # no mail relay here: messages wait in the outbox, retried
    }
    for i in range(app_processes):
        name = f"app{i}"
        say(f"mapapp serve #{i + 1} on {ports[name]}")
        argv = [*cli, "serve", "--host", "127.0.0.1", "--port", str(ports[name]), "--workers", str(workers_per_app)]
        app = _spawn(argv, folder / f"{name}.log", stack.app_env)
        stack.pids[name] = app.pid
        stack.save()
    for i in range(app_processes):
        processes.wait_for_port(ports[f"app{i}"], seconds=180)
    say("mapapp worker")
    worker = _spawn([*cli, "worker"], folder / "worker.log", stack.app_env)
    stack.pids["worker"] = worker.pid

    say(f"nginx (reverse proxy and cache) on {ports['nginx']}")
    app_ports = [ports[f"app{i}"] for i in range(app_processes)]
    nginx_config = processes.nginx_config(folder / "nginx", port=ports["nginx"], app_ports=app_ports)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    processes.run([nginx, "-p", str(nginx_config.parent), "-c", str(nginx_config), "-t", "-q"])
    proxy = _spawn(
        [nginx, "-p", str(nginx_config.parent), "-c", str(nginx_config), "-g", "daemon off;"],
        folder / "nginx" / "nginx.out",
    )
    processes.wait_for_port(ports["nginx"], process=proxy)
    stack.pids["nginx"] = proxy.pid
    stack.save()
    _wait_ready(stack)


def _run_env(argv: list[str], env: dict[str, str], folder: Path) -> None:
    log = folder / "setup.log"
    with log.open("ab") as out:
        done = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise StackError(f"{' '.join(argv[2:])} failed: " + " / ".join(tail))


def _wait_ready(stack: Stack, seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            ready = httpx.get(f"{stack.proxy_url}/readyz", timeout=5)
            body = ready.json()
            if ready.status_code == 200 and (body.get("replica") or {}).get("status") == "ok":
                return
            last = ready.text
        except (httpx.HTTPError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise StackError(f"the stack did not become ready within {seconds:.0f} s: {last}")


def down(stack: Stack | None = None, *, say: Callable[[str], None] = print) -> None:
    """Stop every process of the stack, both clusters, and remove its folder."""
    stack = stack or Stack.load()
    folder = Path(stack.folder)
    for name in ["nginx", "worker", *[n for n in stack.pids if n.startswith("app")], "pgbouncer", "s3"]:
        pid = stack.pids.get(name)
        if pid:
            started = time.monotonic()
            _terminate(pid)
            say(f"{name} stopped ({time.monotonic() - started:.1f} s)")
    for name in ("replica", "primary"):
        cluster = stack.cluster(name) if name in stack.ports else None
        if cluster is not None and (cluster.data / "postmaster.pid").exists():
            try:
                cluster.stop("fast")
            except RuntimeError as exc:
                say(f"{name}: {exc}")
    shutil.rmtree(folder, ignore_errors=True)
    if CURRENT.exists() and json.loads(CURRENT.read_text(encoding="utf-8")).get("folder") == stack.folder:
        CURRENT.unlink()
    say(f"stack in {folder} stopped and removed")


def _terminate(pid: int, seconds: float = 15) -> None:
    """SIGTERM to the child's process group (its own session: uvicorn's workers too), SIGKILL if it stays."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
