# Sourced by deploy/smoke.sh (SMOKE_COMPOSE=1, offline): docker-compose.yml itself, on the
# host's network (host-network.yml), with stand-ins for its official images; then a request
# through nginx, a write with a token, a winner. Uses smoke.sh's functions and variables.

say "compose: building the stand-ins (deploy/compose/standins.Dockerfile)"
compose_started=$(date +%s)
for target in postgres redis rabbitmq nginx; do
    name=$(sed -n "s/^ *image: \($target:[^ ]*\)$/\1/p" docker-compose.yml)
    [ -n "$name" ] || fail "docker-compose.yml names no $target image"
    DOCKER_BUILDKIT=1 "${docker[@]}" build --network host --progress plain \
        --build-arg "BASE=$local_base" -f deploy/compose/standins.Dockerfile --target "$target" \
        --tag "$name" . >"$work/standin-$target.log" 2>&1 \
        || { tail -30 "$work/standin-$target.log"; fail "the $target stand-in"; }
    standins+=("$name")
done
say "compose: stand-ins built in $(( $(date +%s) - compose_started ))s"
"${docker[@]}" tag "$image" leaderboard:latest
standins+=(leaderboard:latest)

for name in PG REDIS AMQP DIST EPMD CTL WEB NGINX; do
    export "SMOKE_${name}_PORT=$(free_port)"
done
export SECRET_KEY=$secret ALLOWED_HOSTS=localhost,127.0.0.1
compose=(docker-compose --project-name "smoke$$" -f docker-compose.yml
    -f deploy/compose/host-network.yml)
compose_up=yes
up_started=$(date +%s)
DOCKER_HOST=${docker_host:-${DOCKER_HOST:-}} "${compose[@]}" up -d --no-build \
    >"$work/compose-up.log" 2>&1 || { tail -30 "$work/compose-up.log"; fail "compose up"; }
say "compose: up in $(( $(date +%s) - up_started ))s (migrate done, every health check passed)"

url="http://127.0.0.1:$SMOKE_NGINX_PORT"  # from here on, every request goes through nginx
status=$(http GET /readyz)
[ "$status" = 200 ] || fail "/readyz through nginx answered $status: $(cat "$work/body")"
token=$(DOCKER_HOST=${docker_host:-${DOCKER_HOST:-}} "${compose[@]}" exec -T web \
    python manage.py issue_token smoke 2>/dev/null | tail -1)
status=$(http POST /api/users/ -H "Authorization: Token $token" \
    -H 'Content-Type: application/json' -d '{"name": "Composed", "age": 40, "address": "2 Proxy Way"}')
[ "$status" = 201 ] || fail "a write through nginx answered $status: $(cat "$work/body")"
user_id=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$work/body")
status=$(http POST "/api/users/$user_id/increment/" -H "Authorization: Token $token")
[ "$status" = 200 ] || fail "an increment through nginx answered $status"
winner=$(DOCKER_HOST=${docker_host:-${DOCKER_HOST:-}} "${compose[@]}" exec -T web \
    python manage.py declare_winner 2>&1) || fail "declare_winner: $winner"
status=$(http GET /api/winners/)
[ "$status" = 200 ] && grep -q Composed "$work/body" || fail "no winner through nginx: $(cat "$work/body")"
composed_healthy() {
    local id
    id=$(DOCKER_HOST=${docker_host:-${DOCKER_HOST:-}} "${compose[@]}" ps -q "$1")
    [ "$("${docker[@]}" inspect --format '{{.State.Health.Status}}' "$id")" = healthy ]
}
for service in db redis rabbitmq web worker beat nginx-host; do
    wait_for 120 "compose's $service reports healthy" composed_healthy "$service"
done
say "compose: through nginx /readyz 200, a write 201, ${winner//$'\n'/ }; db, redis, rabbitmq, web, worker, beat, nginx-host healthy"
say "compose: $(( $(date +%s) - compose_started ))s in all"
