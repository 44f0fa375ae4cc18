#!/bin/sh
# Health check for every part: the web parts answer /healthz (200 only when their own
# database role can connect); the worker has no port, so check that it is the running
# process and that its role can connect.
set -eu
case "${CARNET_SERVICE:-all}" in
    worker)
        grep -q exchange /proc/1/cmdline
        exec python3 -c 'from carnet.env import envsecret; import psycopg; psycopg.connect(envsecret("DATABASE_URL"), connect_timeout=3).close()'
        ;;
    *)
        exec curl --fail --silent --show-error --max-time 4 -o /dev/null http://127.0.0.1:8000/healthz
        ;;
esac
