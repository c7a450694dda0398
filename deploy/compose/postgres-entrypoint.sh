#!/bin/sh
# As the official image: a cluster made on first start with POSTGRES_USER, POSTGRES_PASSWORD
# and POSTGRES_DB, then the server in the foreground. PGPORT picks the port (host network).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" /run/postgresql && chown postgres "$PGDATA" /run/postgresql
    echo "$POSTGRES_PASSWORD" >/tmp/pwfile
    chown postgres /tmp/pwfile
    su postgres -c "initdb -U '$POSTGRES_USER' --pwfile=/tmp/pwfile --auth-local=trust \
        --auth-host=scram-sha-256 -D '$PGDATA'" >/dev/null
    rm /tmp/pwfile
    su postgres -c "pg_ctl -D '$PGDATA' -o '-c listen_addresses=' -w start" >/dev/null
    su postgres -c "psql -U '$POSTGRES_USER' -d postgres -c 'CREATE DATABASE \"$POSTGRES_DB\"'"
    su postgres -c "pg_ctl -D '$PGDATA' -w stop" >/dev/null
fi
mkdir -p /run/postgresql && chown postgres /run/postgresql
exec su postgres -c "exec postgres -D '$PGDATA' -c listen_addresses=127.0.0.1 -p ${PGPORT:-5432}"
