# The production image. The same image runs the web server (the default), the Celery worker
# and beat, and the one-shot migrations: docker-compose.yml picks the command.
#
# BASE is the official Python image; PIP_ARGS lets an offline build install from a wheelhouse
# served on loopback to a host-networked build (README, Deployment):
#   docker build --network host --build-arg BASE=local/bookworm-python:3.11 \
#     --build-arg PIP_ARGS="--no-index --find-links=http://127.0.0.1:PORT/" .
# A URL, not a folder: the build stage sees only requirements.txt, so that a code change does
# not reinstall every dependency. Both keep their defaults for everyone else.
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG PIP_ARGS=""
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir ${PIP_ARGS} -r requirements.txt

FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=leaderboard.settings.production \
    HOST=0.0.0.0 \
    PORT=8000 \
    VAR_DIR=/app/var
WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app app
COPY --from=build /venv /venv
COPY . .
# Static files are collected at build time; these values exist only for that step.
RUN SECRET_KEY=collectstatic-only-not-a-secret-collectstatic-only-not-a-secret \
    DATABASE_URL=sqlite:////tmp/unused.sqlite3 REDIS_URL=redis://unused:6379/0 \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/var && chown 10001 /app/var
USER 10001

EXPOSE 8000
# One check per role (deploy/healthcheck.py): web, /healthz, which answers without the database
# or Redis ("the process serves requests"); worker, a Celery ping to this container's worker;
# beat, a fresh heartbeat. $ROLE names the role; without it the check reads it from the
# container's command. The worker's check loads the settings, hence the timeout.
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
# As `make run` starts it (leaderboard/gunicorn.conf.py): threaded workers, client timeouts.
CMD ["gunicorn", "-c", "leaderboard/gunicorn.conf.py", "leaderboard.wsgi:application"]
