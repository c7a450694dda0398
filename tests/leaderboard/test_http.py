"""What a hostile or careless client can send, against real servers: slow headers, stalled
bodies, oversized bodies, with gunicorn alone (`make run`) and with nginx in front (the
compose stack's proxy, Debian's nginx here). Each test starts its own servers on loopback
ports of its own."""

import contextlib
import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from accounts.services import token_issue
from leaderboard.http.limits import REQUESTS_PER_CONNECTION
from tests.conftest import ROOT, free_port, subprocess_env
from users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def wait_until_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@contextmanager
def gunicorn(**environment: str):
    port = free_port()
    env = {
        **subprocess_env(),
        "PORT": str(port),
        "REQUEST_BODY_TIMEOUT_SECONDS": "1",
        "THROTTLE_ANON": "off",
        "THROTTLE_WRITES": "off",
        **environment,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "leaderboard/gunicorn.conf.py",
            "leaderboard.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port)
        ask(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")  # workers are up
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def nginx_in_front_of(upstream: int):
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lb-nginx-") as directory:
        site = (ROOT / "deploy/nginx/leaderboard.conf.template").read_text()
        site = site.replace("${UPSTREAM}", f"127.0.0.1:{upstream}")
        site = site.replace("${LISTEN}", f"127.0.0.1:{port}")
        (Path(directory) / "leaderboard.conf").write_text(site)
        (Path(directory) / "nginx.conf").write_text(
            f"daemon off; pid {directory}/nginx.pid; error_log {directory}/error.log;\n"
            "events {}\n"
            f"http {{ access_log off; client_body_temp_path {directory}/body;\n"
            f"  proxy_temp_path {directory}/proxy; include {directory}/leaderboard.conf; }}\n"
        )
        proxy = subprocess.Popen([NGINX, "-c", f"{directory}/nginx.conf", "-p", directory])
        try:
            wait_until_listening(port)
            yield port
        finally:
            proxy.terminate()
            proxy.wait(timeout=30)


def ask(port: int, request: str, timeout: float = 10) -> str:
    """Send a raw request and return the status line and headers of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        client.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = client.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.decode(errors="replace")


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that send half a request and then nothing."""
    stalled = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /api/users/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        stalled.append(client)
    return stalled


def timed_get(port: int) -> tuple[float, str]:
    started = time.monotonic()
    answer = ask(port, "GET /api/users/?limit=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return time.monotonic() - started, answer.split("\r\n")[0]


def stalled_body(port: int, key: str, user_id: int) -> str:
    """A POST that announces 100 bytes, sends 10 and stalls."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(
            (
                f"POST /api/users/{user_id}/increment/ HTTP/1.1\r\nHost: localhost\r\n"
                f"Authorization: Token {key}\r\nContent-Type: application/json\r\n"
                'Content-Length: 100\r\n\r\n{"by": 1'
            ).encode()
        )
        answer = b""
        try:
            while chunk := client.recv(4096):
                answer += chunk
        except OSError:
            pass
    return answer.decode(errors="replace").split("\r\n")[0]


def test_slow_clients_do_not_starve_gunicorn_and_a_stalled_body_gets_408():
    user = UserFactory(points=3)
    key = token_issue(username="writer")
    with gunicorn() as port:
        stalled = slow_clients(port, 6)
        elapsed, status = timed_get(port)
        answer = stalled_body(port, key, user.pk)
        for client in stalled:
            client.close()

    assert (status, elapsed < 2) == ("HTTP/1.1 200 OK", True)
    assert answer.startswith("HTTP/1.1 408")
    assert User.objects.get(pk=user.pk).points == 3


def test_behind_nginx_slow_clients_cost_nothing_and_bodies_are_bounded():
    if not Path(NGINX).exists():
        pytest.skip("Debian's nginx is not installed (CI installs it)")
    user = UserFactory(points=3)
    key = token_issue(username="writer")
    with gunicorn() as upstream, nginx_in_front_of(upstream) as port:
        stalled = slow_clients(port, 50)  # more than gunicorn has threads
        elapsed, status = timed_get(port)
        too_large = ask(
            port,
            f"POST /api/users/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token {key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        )
        answer = stalled_body(port, key, user.pk)
        too_long = ask(port, f"GET /api/users/?search={'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n")
        for client in stalled:
            client.close()

    assert (status, elapsed < 2) == ("HTTP/1.1 200 OK", True)
    assert too_large.startswith("HTTP/1.1 413")
    assert "application/json" in too_large
    assert too_long.startswith("HTTP/1.1 414")
    assert "application/json" in too_long
    assert not answer.startswith("HTTP/1.1 5")  # nginx gives up on it; gunicorn never sees it
    assert User.objects.get(pk=user.pk).points == 3


def test_a_json_body_over_64_kb_is_413_before_it_is_read(writer):
    body = json.dumps({"name": "a", "age": 1, "address": "x" * 70_000})

    response = writer.generic("POST", "/api/users/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 64 KB."}
    assert not User.objects.exists()


def chunked(port: int, method: str, path: str, body: bytes, **headers: str):
    """Send ``body`` with Transfer-Encoding: chunked (no Content-Length), in small chunks;
    the status and the JSON answer."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
        client.request(
            method,
            path,
            body=iter(pieces),
            headers={"Content-Type": "application/json", **headers},
            encode_chunked=True,
        )
        answer = client.getresponse()
        content = answer.read()
        return answer.status, json.loads(content) if content else None
    finally:
        client.close()


def test_chunked_bodies_are_read_on_every_write_within_the_same_limit():
    key = token_issue(username="writer")
    auth = {"Authorization": f"Token {key}"}
    with gunicorn() as port:
        created = chunked(port, "POST", "/api/users/", b'{"name": "Ada", "age": 36}', **auth)
        pk = created[1]["id"]
        one = f"/api/users/{pk}/"
        up = chunked(port, "POST", f"{one}increment/", b'{"by": 1000}', **auth)
        down = chunked(port, "POST", f"{one}decrement/", b'{"by": 999}', **auth)
        too_far = chunked(port, "POST", f"{one}decrement/", b'{"by": 2}', **auth)
        patched = chunked(port, "PATCH", one, b'{"name": "Grace"}', **auth)
        put = chunked(port, "PUT", one, b'{"name": "Lin", "age": 40, "address": "x"}', **auth)
        replays = [
            chunked(port, "POST", f"{one}increment/", body, **auth, **{"Idempotency-Key": "k"})
            for body in (b'{"by": 2}', b'{"by":2}', b'{"by": 3}')
        ]
        too_big = json.dumps({"name": "Big", "age": 1, "address": "x" * 70_000}).encode()
        refused = chunked(port, "POST", "/api/users/", too_big, **auth)

    assert created[0] == 201
    assert created[1]["name"] == "Ada"
    assert (up[0], up[1]["points"]) == (200, 1000)
    assert (down[0], down[1]["points"]) == (200, 1)
    assert too_far[0] == 409
    assert (patched[0], patched[1]["name"]) == (200, "Grace")
    assert (put[0], put[1]["name"], put[1]["age"], put[1]["address"]) == (200, "Lin", 40, "x")
    assert [status for status, _ in replays] == [200, 200, 422]
    assert replays[1][1] == replays[0][1]
    assert refused == (413, {"detail": "The request body is larger than 64 KB."})
    user = User.objects.get()
    assert (user.name, user.age, user.points) == ("Lin", 40, 3)


@pytest.mark.parametrize("length", [4_020, 6_000, 9_000])
def test_a_url_too_long_is_a_json_414(length):
    path = "/api/users/?search=" + "a" * (length - len("/api/users/?search="))
    with gunicorn() as port:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", path)
        answer = client.getresponse()
        body = answer.read()
        client.close()

    assert answer.status == 414
    assert answer.getheader("Content-Type") == "application/json"
    assert "longer than 4,000 bytes" in json.loads(body)["detail"]


def test_twenty_trickling_clients_do_not_slow_the_health_probe():
    """Ten clients trickle their headers and ten their bodies, a byte every half second
    (each read is quick, but no request ever ends): /healthz still answers within a second.
    The deadlines are `make run`'s (10 s), longer than the test: every client trickles on."""
    key = token_issue(username="writer")
    user = UserFactory(points=3)
    with gunicorn(REQUEST_BODY_TIMEOUT_SECONDS="10") as port:
        clients = []
        for n in range(20):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            if n % 2:
                client.sendall(
                    (
                        f"POST /api/users/{user.pk}/increment/ HTTP/1.1\r\nHost: localhost\r\n"
                        f"Authorization: Token {key}\r\nContent-Type: application/json\r\n"
                        "Content-Length: 1000\r\n\r\n"
                    ).encode()
                )
            else:
                client.sendall(b"GET /api/users/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            clients.append(client)
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(0.5):
                for client in clients:
                    with contextlib.suppress(OSError):
                        client.send(b"1")

        trickler = threading.Thread(target=trickle)
        trickler.start()
        try:
            stop.wait(1.5)  # every trickling client has had time to take a thread
            timings = []
            for _ in range(40):
                started = time.monotonic()
                status = ask(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout=5)
                timings.append((time.monotonic() - started, status.split("\r\n")[0]))
        finally:
            stop.set()
            trickler.join()
            for client in clients:
                client.close()

    assert {status for _, status in timings} == {"HTTP/1.1 200 OK"}
    durations = sorted(elapsed for elapsed, _ in timings)
    assert durations[int(len(durations) * 0.99)] < 1.0, durations
    assert User.objects.get(pk=user.pk).points == 3


def test_a_kept_alive_connection_is_closed_after_its_hundredth_answer_so_workers_share_them():
    with gunicorn() as port:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        answers = []
        for _ in range(REQUESTS_PER_CONNECTION):
            client.request("GET", "/healthz")
            answer = client.getresponse()
            answers.append((answer.status, answer.getheader("Connection"), answer.read()))
        closed_by_the_server = client.sock is None  # http.client drops it on "close"
        client.request("GET", "/healthz")  # http.client connects again, as clients do
        again = client.getresponse()
        again.read()
        client.close()

    assert closed_by_the_server
    assert all(status == 200 and body for status, _, body in answers)
    assert {connection for _, connection, _ in answers[:-1]} == {"keep-alive"}
    assert answers[-1][1] == "close"
    assert again.status == 200
