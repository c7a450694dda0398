"""Every limit a client can run into, one constant each. The parser, the middleware, the
gunicorn worker, the schema and the README take their numbers from here.

Nothing here imports Django: the settings and gunicorn's worker read it too.
"""

import os

# The largest request body the service reads (413 past it); the biggest real one is a few
# hundred bytes.
MAX_BODY_BYTES = 64 * 1024

# No anonymous answer is larger than this. The caps on each list keep the worst case under
# it, whatever the names are made of (tests/leaderboard/test_limits.py builds that case).
MAX_ANSWER_BYTES = 1024 * 1024

# Page sizes: `limit` on every list, and the users a grouped page lists in all
# (`limit` x `users_per_group`). A user is at most about 1.5 KB of JSON (100 four-byte
# characters of name, 255 of address), so a page of 500 stays under MAX_ANSWER_BYTES. A
# grouped page may list more users than that: past MAX_ANSWER_BYTES it is a 400 that says
# to ask for fewer (users.views), which only long names and addresses ever reach.
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
MAX_USERS_PER_GROUP = 1000
MAX_GROUPED_USERS = 2000
# The largest offset a list accepts: past it no board has anything to show.
MAX_OFFSET = 2**31 - 1

# JSON answers at least this large are gzip-compressed for a client that accepts it.
GZIP_MIN_BYTES = 1024

# The longest URL (path and query) Django serves under /api/: a 414 in JSON past it. Below
# gunicorn's own limit on the request line (4,094 bytes), which answers in HTML.
MAX_URL_BYTES = 4000

# Whole deadlines, from the first byte of a request: its headers must have arrived within
# HEADER_DEADLINE_SECONDS (else the connection is closed), and its body within
# BODY_DEADLINE_SECONDS more (else 408). They bound the whole request, not each read, so a
# client that trickles a byte at a time gains nothing.
HEADER_DEADLINE_SECONDS = float(os.environ.get("REQUEST_HEADER_TIMEOUT_SECONDS", "10"))
BODY_DEADLINE_SECONDS = float(os.environ.get("REQUEST_BODY_TIMEOUT_SECONDS", "10"))
# The most a client may send before its body: the request line and every header.
MAX_HEADER_BYTES = 16 * 1024
# A kept-alive connection is closed after this many requests, so that connections spread
# over gunicorn's workers again (leaderboard/gunicorn_worker.py says why).
REQUESTS_PER_CONNECTION = 100
