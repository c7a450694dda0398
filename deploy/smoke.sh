#!/usr/bin/env bash
# The image, built and smoke-tested: each role (web, worker, beat) in its own container on the
# host's network, against a PostgreSQL and a Redis on loopback. .ci/run and the GitHub workflow
# both run it.
#
#   deploy/smoke.sh offline   # no registry: a Debian base made with debootstrap (cached), and
#                             # a wheelhouse built on the host (cached) served on loopback
#   deploy/smoke.sh online    # python:3.11-slim and PyPI, as on GitHub's runners
#
# It checks: `check --deploy --fail-level WARNING`; /readyz 503 before migrate and 200 after;
# a write with a token (and a 401 without); the worker's ping; beat's start; declare_winner;
# and that the HEALTHCHECK of each role's container reports healthy.
#
# Environment:
#   SMOKE_ENGINE    own (start a dockerd of its own, stopped afterwards; needs root and
#                   Debian's docker.io), existing (the engine `docker` reaches), or auto
#                   (existing if one answers, else own if it can): default auto.
#   SMOKE_POSTGRES  the PostgreSQL server, default postgres://postgres@127.0.0.1:5432
#   SMOKE_DATABASE  the database it creates and drops there, default leaderboard_smoke
#   SMOKE_REDIS     the Redis database it uses (and empties), default redis://127.0.0.1:6379/9
#   SMOKE_CACHE     where the base image's tarball and the wheelhouse are kept between runs,
#                   default /var/cache/leaderboard-ci
#   SMOKE_COMPOSE   1: then docker-compose.yml too, on the host's network with stand-in
#                   images (deploy/compose/), offline only: a request through nginx, a write
#                   with a token, a winner. .ci/run sets it (about a minute more).
#   CI              true: an engine that cannot start is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-offline}
case "$mode" in offline | online) ;; *) echo "usage: $0 [offline|online]" >&2; exit 2 ;; esac
engine=${SMOKE_ENGINE:-auto}
postgres=${SMOKE_POSTGRES:-postgres://postgres@127.0.0.1:5432}
database=${SMOKE_DATABASE:-leaderboard_smoke}
redis=${SMOKE_REDIS:-redis://127.0.0.1:6379/9}
cache=${SMOKE_CACHE:-/var/cache/leaderboard-ci}
python=${PYTHON:-python3}
# Debian's base, as the image's build stage and runtime both see it.
suite=bookworm
base_packages=python3,python3-venv,python3-pip,python-is-python3
local_base=local/bookworm-python:3.11

started=$(date +%s)
say() { printf -- '--- smoke (%ss): %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { say "FAILED: $*"; exit 1; }
sql() {
    PGOPTIONS=--client-min-messages=warning psql -q -v ON_ERROR_STOP=1 "$postgres/postgres" \
        -c "$1" >/dev/null
}
free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=$(mktemp -d /tmp/leaderboard-smoke.XXXXXX)
label="leaderboard-smoke=$$"
image="leaderboard-smoke:$$"
dockerd_pid=""
server_pid=""
docker=(docker)
database_created=""
docker_host=""
standins=()
compose=()
compose_up=""
base_imported=""
show_logs=""

cleanup() {
    local status=$1
    set +e
    [ "$status" = 0 ] || [ -z "$show_logs" ] || logs_of_all
    if [ -n "$compose_up" ]; then
        DOCKER_HOST=${docker_host:-${DOCKER_HOST:-}} "${compose[@]}" down --volumes \
            --remove-orphans >/dev/null 2>&1
    fi
    if [ ${#docker[@]} -gt 0 ] && "${docker[@]}" version >/dev/null 2>&1; then
        for standin in "${standins[@]}"; do "${docker[@]}" rmi -f "$standin" >/dev/null 2>&1; done
        for c in $("${docker[@]}" ps -aq --filter "label=$label"); do
            "${docker[@]}" rm -f "$c" >/dev/null
        done
        "${docker[@]}" rmi -f "$image" >/dev/null 2>&1
        [ -z "$base_imported" ] || "${docker[@]}" rmi -f "$local_base" >/dev/null 2>&1
    fi
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null
        for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$dockerd_pid" 2>/dev/null && { say "dockerd did not stop; killing it"; kill -9 "$dockerd_pid"; }
        # dockerd unmounts its layers as it stops; anything left would keep rm from working.
        grep -o " $work/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    fi
    [ -z "$database_created" ] || sql "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)"
    command -v redis-cli >/dev/null && redis-cli -u "$redis" flushdb >/dev/null 2>&1
    rm -rf "$work"
    exit $status
}
trap 'cleanup $?' EXIT
trap 'say "FAILED at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

skip() {
    if [ "${CI:-}" = true ]; then fail "$* (in CI an engine must start)"; fi
    say "SKIPPED the image's build and smoke test: $*"
    exit 0
}

# --- The engine -------------------------------------------------------------------------
start_own_engine() {
    local dockerd
    dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
    [ -x "$dockerd" ] || skip "no dockerd (apt-get install docker.io)"
    [ "$(id -u)" = 0 ] || skip "starting a dockerd of its own needs root"
    # Debian's 20.10 client: the /usr/local/bin one may be a newer client without buildx.
    local client=/usr/bin/docker
    [ -x "$client" ] || client=$(command -v docker)
    mkdir -p "$work/data" "$work/exec"
    # No bridge, no iptables: the containers use the host's network, on loopback ports.
    "$dockerd" --data-root "$work/data" --exec-root "$work/exec" -H "unix://$work/docker.sock" \
        --pidfile "$work/dockerd.pid" --bridge=none --iptables=false --ip6tables=false \
        --ip-masq=false >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    docker_host="unix://$work/docker.sock"
    docker=("$client" -H "$docker_host")
    for _ in $(seq 60); do
        "${docker[@]}" version >/dev/null 2>&1 && return 0
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.5
    done
    tail -20 "$work/dockerd.log"
    skip "dockerd did not start"  # cleanup stops it if it is still there
}

case "$engine" in
    existing) docker version >/dev/null 2>&1 || skip "no Docker engine answers" ;;
    own) start_own_engine ;;
    auto) docker version >/dev/null 2>&1 || start_own_engine ;;
    *) fail "SMOKE_ENGINE is own, existing or auto, not $engine" ;;
esac
say "engine $("${docker[@]}" version --format '{{.Server.Version}}')${dockerd_pid:+ (its own dockerd, pid $dockerd_pid)}"

# --- The base and the dependencies -----------------------------------------------------
build_args=()
if [ "$mode" = offline ]; then
    mkdir -p "$cache"
    tarball="$cache/$suite-minbase-$(echo "$base_packages" | tr , -).tar"
    if [ ! -s "$tarball" ]; then
        debootstrap_bin=$(command -v debootstrap || echo /usr/sbin/debootstrap)
        [ -x "$debootstrap_bin" ] || fail "no debootstrap (apt-get install debootstrap)"
        # The Debian mirror apt uses here: it is the one this machine reaches.
        mirror=$(
            { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
              sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' \
                  /etc/apt/sources.list 2>/dev/null; } | tr ' ' '\n' | grep -v security | head -1
        ) || true
        mirror=${mirror:-http://deb.debian.org/debian}
        say "making the base with debootstrap from $mirror (cached in $tarball afterwards)"
        "$debootstrap_bin" --variant=minbase --include="$base_packages" "$suite" "$work/rootfs" \
            "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
        rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
        tar -C "$work/rootfs" -c . >"$tarball.partial"
        mv "$tarball.partial" "$tarball"
        rm -rf "$work/rootfs"
    fi
    "${docker[@]}" import - "$local_base" <"$tarball" >/dev/null
    base_imported=yes
    say "base $local_base imported from $tarball"

    # The wheelhouse, for the base's Python (3.11): built on the host, keyed on requirements.
    key=$({ cat requirements.txt; "$python" -c "import sys; print(sys.implementation.cache_tag)"; } | sha256sum | cut -c1-16)
    wheels="$cache/wheels-$key"
    if [ ! -d "$wheels" ]; then
        say "building the wheelhouse $wheels"
        rm -rf "$wheels.partial"
        "$python" -m pip wheel -qq -r requirements.txt -w "$wheels.partial"
        # Lines whose marker the host's Python does not meet (async-timeout is for Python
        # below 3.11.3, as Debian's is; the host's may be newer): their wheels too.
        sed -n 's/^\([A-Za-z0-9_.-]*==[^;[:space:]]*\)[[:space:]]*;.*/\1/p' requirements.txt \
            | xargs -r "$python" -m pip wheel -qq --no-deps -w "$wheels.partial"
        mv "$wheels.partial" "$wheels"
    fi
    port=$(free_port)
    "$python" -m http.server --bind 127.0.0.1 --directory "$wheels" "$port" \
        >"$work/wheels.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    build_args=(--build-arg "BASE=$local_base"
        --build-arg "PIP_ARGS=--no-index --find-links=http://127.0.0.1:$port/")
fi

# --- The image -------------------------------------------------------------------------
say "building $image ($mode)"
build_started=$(date +%s)
DOCKER_BUILDKIT=1 "${docker[@]}" build --network host --progress plain "${build_args[@]}" \
    --tag "$image" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "docker build"; }
if [ -n "$server_pid" ]; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi
say "built in $(( $(date +%s) - build_started ))s, $("${docker[@]}" image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1 / 1e6}')"

# --- The database ----------------------------------------------------------------------
sql "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)"
sql "CREATE DATABASE \"$database\"" || fail "cannot create the database $database at $postgres"
database_created=yes
command -v redis-cli >/dev/null && redis-cli -u "$redis" flushdb >/dev/null

web_port=$(free_port)
secret=$("$python" -c 'import secrets; print(secrets.token_urlsafe(50))')
app_env=(-e "SECRET_KEY=$secret" -e "DATABASE_URL=$postgres/$database" -e "REDIS_URL=$redis"
    -e "ALLOWED_HOSTS=localhost,127.0.0.1" -e "HOST=127.0.0.1" -e "PORT=$web_port")
run() { "${docker[@]}" run --rm --network host --label "$label" "${app_env[@]}" "$image" "$@"; }
start() {  # start NAME ROLE COMMAND...: a container of that role, plain HTTP on loopback
    local name=$1 role=$2
    shift 2
    "${docker[@]}" run --detach --name "$name-$$" --network host --label "$label" \
        "${app_env[@]}" -e SECURE_SSL_REDIRECT=false -e "ROLE=$role" "$image" "$@" >/dev/null
}
logs_of_all() {
    for c in $("${docker[@]}" ps -aq --filter "label=$label"); do
        echo "--- logs of $("${docker[@]}" inspect --format '{{.Name}}' "$c")"
        "${docker[@]}" logs --tail 30 "$c" 2>&1
    done
}
show_logs=yes
url="http://127.0.0.1:$web_port"
http() {  # http METHOD PATH [curl args]: prints the status code, the body to $work/body
    local method=$1 path=$2
    shift 2
    curl -s -o "$work/body" -w '%{http_code}' -X "$method" -H "Host: localhost" "$@" "$url$path"
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds
    local seconds=$1 what=$2
    shift 2
    local deadline=$(( $(date +%s) + seconds ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$what (not within ${seconds}s)"
        sleep 0.5
    done
}

# --- The checks --------------------------------------------------------------------------
# As deployed behind TLS (SECURE_SSL_REDIRECT's default): no warning at all.
run python manage.py check --deploy --fail-level WARNING >"$work/check.log" 2>&1 \
    || { cat "$work/check.log"; fail "check --deploy"; }
say "check --deploy --fail-level WARNING: clean"

start web web
web_answers() { [ "$(http GET /healthz)" = 200 ]; }
wait_for 60 "the web container answers /healthz" web_answers
status=$(http GET /readyz)
[ "$status" = 503 ] || fail "/readyz before migrate answered $status: $(cat "$work/body")"
say "/readyz before migrate: 503 $(cat "$work/body")"

run python manage.py migrate --noinput >"$work/migrate.log" 2>&1 || { tail -20 "$work/migrate.log"; fail migrate; }
say "migrated"
status=$(http GET /readyz)
[ "$status" = 200 ] || fail "/readyz after migrate answered $status: $(cat "$work/body")"
say "/readyz after migrate: 200 $(cat "$work/body")"

token=$(run python manage.py issue_token smoke 2>/dev/null | tail -1)
user='{"name": "Smoke", "age": 30, "address": "1 Loopback Rd"}'
status=$(http POST /api/users/ -H 'Content-Type: application/json' -d "$user")
[ "$status" = 401 ] || fail "a write without a token answered $status"
status=$(http POST /api/users/ -H "Authorization: Token $token" -H 'Content-Type: application/json' -d "$user")
[ "$status" = 201 ] || fail "a write with a token answered $status: $(cat "$work/body")"
user_id=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$work/body")
status=$(http POST "/api/users/$user_id/increment/" -H "Authorization: Token $token")
[ "$status" = 200 ] || fail "an increment answered $status: $(cat "$work/body")"
say "a write with a token: 201, then an increment: 200 (and 401 without the token)"

start worker worker celery -A leaderboard worker --loglevel INFO --concurrency 1
start beat beat celery -A leaderboard beat --loglevel INFO
node="celery@$(hostname)"
wait_for 90 "the worker answers a ping" \
    "${docker[@]}" exec "worker-$$" celery -A leaderboard inspect ping --destination "$node" --timeout 3
say "the worker answers Celery's ping ($node)"
# Started: its banner, then a first tick of its scheduler (the heartbeat the check reads).
beat_started() {
    "${docker[@]}" logs "beat-$$" 2>&1 | grep -q 'celery beat v.* is starting' \
        && "${docker[@]}" exec "beat-$$" test -f /app/var/beat.heartbeat
}
wait_for 60 "beat starts and ticks" beat_started
say "beat started and ticks"

winner=$("${docker[@]}" exec "web-$$" python manage.py declare_winner 2>&1) || fail "declare_winner: $winner"
status=$(http GET /api/winners/)
[ "$status" = 200 ] && grep -q Smoke "$work/body" || fail "no winner listed ($status): $(cat "$work/body")"
say "declare_winner: ${winner//$'\n'/ }; /api/winners/ lists it"

healthy() { [ "$("${docker[@]}" inspect --format '{{.State.Health.Status}}' "$1-$$")" = healthy ]; }
for role in web worker beat; do
    wait_for 120 "the $role container's HEALTHCHECK reports healthy" healthy "$role"
    say "$role: healthy"
done

if [ "${SMOKE_COMPOSE:-}" = 1 ]; then
    [ "$mode" = offline ] || fail "SMOKE_COMPOSE=1 is for the offline mode (stand-in images)"
    # shellcheck source=deploy/compose/stack.sh
    . deploy/compose/stack.sh
fi

say "PASSED ($mode${SMOKE_COMPOSE:+, compose})"
