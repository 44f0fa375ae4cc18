#!/bin/sh
# Container entry point: migrate if asked, then serve the part CARNET_SERVICE names.
#   CARNET_MIGRATE=1          run `carnet migrate --noinput` first (as the owner role)
#   CARNET_STATIC_EXPORT=DIR  copy the collected static files to DIR (a volume nginx
#                             serves), refreshed at every start so upgrades replace them
#   CARNET_DB_WAIT_SECONDS    how long to wait for the database at start (90)
#   WEB_CONCURRENCY           gunicorn workers (default 2 x cores + 1)
# Any arguments replace the default command: `podman run IMAGE carnet audit verify`.
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

# The key comes from the env file (SECRET_KEY) or a secret (SECRET_KEY_FILE): the image
# never makes one, so every process of the node shares the key it was given.
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
    echo "carnet-entrypoint: set SECRET_KEY (or SECRET_KEY_FILE) in carnet.env" >&2
    exit 64
fi

# Wait for the database: compose's depends_on conditions are not enforced everywhere
# (podman-compose ignores service_healthy with podman < 4.6).
python3 - <<'PY'
import os
import sys
import time

import psycopg

from carnet.env import envsecret

url = envsecret("DATABASE_URL")
last = None
for _ in range(int(os.environ.get("CARNET_DB_WAIT_SECONDS", "90"))):
    try:
        psycopg.connect(url, connect_timeout=2).close()
        sys.exit(0)
    except psycopg.OperationalError as error:
        last = error
        time.sleep(1)
sys.exit(f"carnet-entrypoint: the database is unreachable: {last}")
PY

if [ "${CARNET_MIGRATE:-0}" = "1" ]; then
    carnet migrate --noinput
fi

if [ -n "${CARNET_STATIC_EXPORT:-}" ]; then
    find "$CARNET_STATIC_EXPORT" -mindepth 1 -delete
    cp -R "$STATIC_ROOT"/. "$CARNET_STATIC_EXPORT"/
fi

case "${CARNET_SERVICE:-all}" in
    all | practice | gateway)
        exec carnet serve --bind 0.0.0.0:8000 \
            --workers "${WEB_CONCURRENCY:-$((2 * $(nproc) + 1))}"
        ;;
    worker)
        exec carnet exchange --loop "${CARNET_EXCHANGE_INTERVAL:-30}"
        ;;
    *)
        echo "CARNET_SERVICE must be all, practice, gateway or worker (not '$CARNET_SERVICE')" >&2
        exit 64
        ;;
esac
