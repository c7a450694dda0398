"""The container's health check: does this container's web server answer /healthz?

It asks with the first ALLOWED_HOSTS name, so that Django does not refuse the Host header.
Plain Python, without Django, since it runs every few seconds.
"""

import os
import sys
import urllib.request

host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz", headers={"Host": host}
)
try:
    with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - our own URL
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
