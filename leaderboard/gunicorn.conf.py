"""gunicorn's settings, the same for `make run`, the Dockerfile and docker-compose.

Threaded workers (gthread), two processes of eight threads by default, measured best of the
sync and threaded layouts tried on 2 cores (benchmarks/RESULTS.md). A thread waiting on Redis
or the database lets the others run. A request reaches a thread only once it has arrived,
within whole deadlines (leaderboard.gunicorn_worker), so slow clients hold no thread; in front
of the public internet, put a buffering proxy (deploy/nginx/) before them all the same.
"""

import gc
import os
from typing import Any

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "leaderboard.gunicorn_worker.ThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# A worker that stops answering its master for this long is replaced.
timeout = 30
graceful_timeout = 20
keepalive = 5
# One line per request costs a tenth of a cheap request; ACCESS_LOG=1 turns it on.
accesslog = "-" if os.environ.get("ACCESS_LOG", "") not in {"", "0", "false"} else None
errorlog = "-"
# Nothing here uses gunicornc, and its socket would go to $HOME, which the image's user may
# not write ("Control server error: Permission denied").
control_socket_disable = True
# Behind a proxy (docker-compose's nginx), trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker: Any) -> None:
    """Freeze what the worker has loaded: Django, the apps and the URLconf's views make over
    a hundred thousand objects that live as long as the worker, and Python's full collections
    walked them all each time, with every thread of the worker waiting (a p99 of its own).
    Frozen, the collector only walks what requests leave behind."""
    from django.urls import get_resolver

    try:
        get_resolver().url_patterns  # noqa: B018 - imports the URLconf and every view
    except Exception:
        # A view that does not import (an edit under `make dev`'s reload) must not keep the
        # worker from booting: its requests show the error, as they would without this hook.
        worker.log.exception("The URLconf did not import; its views are not frozen.")
    gc.collect()
    gc.freeze()
