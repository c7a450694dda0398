# Stand-ins for the official images docker-compose.yml names (postgres:16, redis:7,
# rabbitmq:3.13, nginx:1.27), built from the local Debian base and Debian's packages where no
# registry is reachable (deploy/smoke.sh with SMOKE_COMPOSE=1). Each does what the stack asks
# of the official one: the same environment variables, commands and health-check tools. The
# versions are Debian bookworm's (PostgreSQL 15, Redis 7.0, RabbitMQ 3.10, nginx 1.22).
# hadolint global ignore=DL3008
ARG BASE=local/bookworm-python:3.11

FROM ${BASE} AS postgres
RUN apt-get update && apt-get install -y --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY deploy/compose/postgres-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]

FROM ${BASE} AS redis
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /data

FROM ${BASE} AS rabbitmq
RUN apt-get update && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/compose/rabbitmq-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint.sh"]

FROM ${BASE} AS nginx
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light gettext-base curl \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
COPY deploy/compose/nginx-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/nginx-entrypoint.sh"]
