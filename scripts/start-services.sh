#!/usr/bin/env bash
# Make sure the services the test suite needs are up:
#   PostgreSQL on 127.0.0.1:5432, user postgres without password (trust), database "test"
#   Redis      on 127.0.0.1:6379
# A fast no-op when they already run. Exits 1 (loudly) when either cannot be reached, so the
# test suite fails instead of skipping.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
PG_DB=test
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
WAIT_SECONDS="${WAIT_SECONDS:-30}"

export PGCONNECT_TIMEOUT=5

log() { echo "start-services.sh: $*" >&2; }

die() {
  {
    echo
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!! start-services.sh: ERROR: $*"
    echo "!! The test suite needs PostgreSQL ($PG_HOST:$PG_PORT) and Redis ($REDIS_HOST:$REDIS_PORT)."
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  } >&2
  exit 1
}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }
pg_query() { psql -w -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@" </dev/null >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_for() {  # wait_for NAME CHECK-FUNCTION
  local name="$1" check="$2" i
  for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if "$check"; then return 0; fi
    sleep 0.5
  done
  log "$name did not come up within ${WAIT_SECONDS}s"
  return 1
}

# Fast path: everything already there.
if pg_up && redis_up && pg_query -d "$PG_DB" -c 'select 1'; then
  exit 0
fi

command -v pg_isready >/dev/null 2>&1 || die "pg_isready not found (run scripts/install-system.sh test)"
command -v redis-server >/dev/null 2>&1 || die "redis-server not found (run scripts/install-system.sh test)"

# ---------------------------------------------------------------- PostgreSQL
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }

if ! pg_up; then
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not running and only root can start it"
  ver="$(pg_version)"
  if [ -z "$ver" ] || [ ! -d "/etc/postgresql/$ver/main" ]; then
    # apt normally creates the cluster; create it if the package was installed without one.
    ver="${ver:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}"
    log "creating PostgreSQL $ver cluster 'main'"
    pg_createcluster "$ver" main >/dev/null
  fi
  log "starting PostgreSQL $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || log "pg_ctlcluster start failed"
  wait_for PostgreSQL pg_up || true
fi
pg_up || die "PostgreSQL is not accepting connections on $PG_HOST:$PG_PORT"

# A freshly installed cluster wants a password (scram) over TCP: allow trust from loopback.
if ! pg_query -d postgres -c 'select 1'; then
  [ "$(id -u)" -eq 0 ] || die "cannot connect to PostgreSQL as $PG_USER without a password, and only root can change pg_hba.conf"
  ver="$(pg_version)"
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  [ -f "$hba" ] || die "$hba not found"
  if ! grep -q '# trove: trust loopback' "$hba"; then
    log "allowing passwordless loopback connections in $hba"
    tmp="$(mktemp)"
    {
      echo "# trove: trust loopback (added by scripts/start-services.sh for the test suite)"
      echo "host    all             all             127.0.0.1/32            trust"
      echo "host    all             all             ::1/128                 trust"
      cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba"   # keep the file's owner and mode
    rm -f "$tmp"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || log "pg_ctlcluster reload failed"
  for ((i = 0; i < 20; i++)); do
    pg_query -d postgres -c 'select 1' && break
    sleep 0.5
  done
  pg_query -d postgres -c 'select 1' \
    || die "cannot connect to PostgreSQL as $PG_USER on $PG_HOST:$PG_PORT without a password"
fi

if ! pg_query -d "$PG_DB" -c 'select 1'; then
  log "creating database $PG_DB"
  createdb -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" </dev/null \
    || pg_query -d "$PG_DB" -c 'select 1' \
    || die "could not create database $PG_DB"
fi

# --------------------------------------------------------------------- Redis
if ! redis_up; then
  [ "$(id -u)" -eq 0 ] || die "Redis is not running and only root can start it here"
  mkdir -p /var/lib/redis /var/log/redis
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log </dev/null \
    || log "redis-server failed to start (see /var/log/redis/ci.log)"
  wait_for Redis redis_up || true
fi

# ---------------------------------------------------------------- final check
pg_up || die "PostgreSQL is not reachable on $PG_HOST:$PG_PORT"
pg_query -d "$PG_DB" -c 'select 1' || die "cannot open database $PG_DB as $PG_USER on $PG_HOST:$PG_PORT"
redis_up || die "Redis is not reachable on $REDIS_HOST:$REDIS_PORT"
log "PostgreSQL and Redis are up"
