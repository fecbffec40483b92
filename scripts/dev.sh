#!/usr/bin/env bash
# Set-up and entry points behind `make run` and `make test`.
#   scripts/dev.sh run   set everything up, load demo data when empty, serve on 127.0.0.1:8000
#   scripts/dev.sh test  set everything up (no serving) and run the whole test suite
#   scripts/dev.sh stack set everything up and start the disaster-day topology (`mapapp stack up`)
# With MAPAPP_DATABASE_URL set, that database is used and nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mmapapp set-up: %s\033[0m\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

apt_install() {
  if ! is_root || ! is_debian; then
    die "missing system packages: $*
  Install them (Debian/Ubuntu: sudo apt-get install -y $*), or point MAPAPP_DATABASE_URL at a
  PostgreSQL server that has PostGIS 3 (CREATE EXTENSION postgis must work for that role)."
  fi
  say "installing $* (apt-get)"
  if [ ! -f /var/lib/mapapp-apt-updated ] || [ -n "$(find /var/lib/mapapp-apt-updated -mmin +1440 2>/dev/null)" ]; then
    apt-get update -qq && touch /var/lib/mapapp-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

ensure_postgres() {
  if [ -z "$(pg_major)" ]; then apt_install postgresql; fi
  local major; major=$(pg_major)
  [ -n "$major" ] || die "PostgreSQL is not installed and could not be installed"
  if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    apt_install "postgresql-$major-postgis-3"
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    is_root || die "PostgreSQL $major is not running; start it (sudo pg_ctlcluster $major main start)"
    say "starting PostgreSQL $major"
    if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$major main"; then
      pg_createcluster "$major" main >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$major" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL $major did not start; see /var/log/postgresql/"
  fi
}

# The local role is the login user, a superuser on this development server: it creates the
# postgis extension and the throw-away test databases. Peer auth on the socket needs no password.
ensure_role_and_database() {
  local me; me=$(id -un)
  local admin=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)
  if is_root; then admin=(runuser -u postgres -- "${admin[@]}"); fi
  if ! "${admin[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$me'" | grep -q 1; then
    say "creating database role $me"
    "${admin[@]}" -c "CREATE ROLE \"$me\" LOGIN SUPERUSER"
  fi
  if ! "${admin[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'mapapp'" | grep -q 1; then
    say "creating database mapapp"
    "${admin[@]}" -c "CREATE DATABASE mapapp OWNER \"$me\""
  fi
  export MAPAPP_DATABASE_URL="postgresql+psycopg2://$me@/mapapp?host=/var/run/postgresql"
}

ensure_venv() {
  local py=${PYTHON:-python3}
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed ($py is older)"
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      apt_install python3-venv
      "$py" -m venv .venv
    fi
  fi
  local stamp; stamp=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$stamp" ]; then
    say "installing Python dependencies into .venv"
    .venv/bin/pip install -q --upgrade pip >/dev/null
    .venv/bin/pip install -q -e '.[dev]'
    echo "$stamp" > .venv/.setup-stamp
  fi
}

# Leaflet, marker clustering and Swagger UI come from the npm registry at set-up time and are served
# from our own origin; nothing is fetched from a CDN at run time.
ensure_browser_assets() {
  if ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  local stamp; stamp=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
  if [ "$(cat node_modules/.mapapp-stamp 2>/dev/null)" != "$stamp" ]; then
    say "installing browser assets (npm ci)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    echo "$stamp" > node_modules/.mapapp-stamp
  fi
}

setup() {
  if [ -z "${MAPAPP_DATABASE_URL:-}" ]; then
    ensure_postgres
    ensure_role_and_database
  else
    say "using MAPAPP_DATABASE_URL (nothing installed system-wide)"
  fi
  ensure_venv
  ensure_browser_assets
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    setup
    .venv/bin/mapapp db upgrade
    .venv/bin/mapapp layers sync
    .venv/bin/mapapp demo load --if-empty
    # The notification worker runs beside the server, is started again (after a pause) whenever it
    # dies, and stops with the server: SIGTERM lets it record the message in flight before it exits.
    supervise_worker() {
      local child="" pause="" status
      trap 'kill $child $pause 2>/dev/null || true; wait || true; exit 0' TERM INT
      while true; do
        "$@" &
        child=$!
        status=0
        wait "$child" || status=$?
        say "notification worker exited (status $status); restarting in ${MAPAPP_WORKER_RESTART_SECONDS:-5} s"
        sleep "${MAPAPP_WORKER_RESTART_SECONDS:-5}" &
        pause=$!
        wait "$pause" || true
      done
    }
    supervise_worker .venv/bin/mapapp worker &
    supervisor=$!
    trap 'kill "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true' EXIT INT TERM
    .venv/bin/mapapp serve --host "${MAPAPP_HOST:-127.0.0.1}" --port "${MAPAPP_PORT:-8000}"
    ;;
  test)
    setup
    # The browser tests drive Debian's Chromium (Playwright's own browser download is never used),
    # with a Korean font so that screenshots show Korean text.
    # grep without -q reads to the end: an early exit would kill fc-list with SIGPIPE (141 under pipefail).
    if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null \
        || ! fc-list 2>/dev/null | grep -i "Noto Color Emoji" >/dev/null; then
      if is_root && is_debian; then apt_install chromium fonts-noto-cjk fonts-noto-color-emoji;
      else say "chromium or its fonts are missing: the browser tests will be skipped"; fi
    fi
    # Issue 14: the scaling tests and `mapapp stack up` start Debian's PgBouncer and nginx on loopback ports
    # of their own (the packages' system services are not used); they skip, saying why, when absent.
    if ! command -v pgbouncer >/dev/null || ! command -v nginx >/dev/null; then
      if is_root && is_debian; then apt_install pgbouncer nginx-light;
      else say "pgbouncer or nginx is missing: the scaling tests will be skipped"; fi
    fi
    # The suite makes its own throw-away databases on this server; the demo database is never touched.
    exec .venv/bin/python -m pytest "$@"
    ;;
  stack)
    # Issue 14: the whole topology on loopback (primary, replica, PgBouncer, two app processes, a worker,
    # moto as S3, nginx) in a temporary folder; `mapapp stack down` removes it.
    setup
    if ! command -v pgbouncer >/dev/null || ! command -v nginx >/dev/null; then
      if is_root && is_debian; then apt_install pgbouncer nginx-light;
      else die "pgbouncer and nginx are needed (Debian: apt-get install pgbouncer nginx-light)"; fi
    fi
    exec .venv/bin/mapapp stack up "$@"
    ;;
  *)
    die "usage: scripts/dev.sh run|test|stack [args]"
    ;;
esac
