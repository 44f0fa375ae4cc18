#!/bin/sh
# First start: initdb, then create Carnet's three roles and its database (see
# docs/operations.md, "The three database roles"); every start: run postgres.
# The init server listens on the unix socket only, so the health check (TCP) stays red
# until the roles and the database exist.
set -eu
: "${CARNET_OWNER_PASSWORD:?set CARNET_OWNER_PASSWORD (postgres.env)}"
: "${CARNET_APP_PASSWORD:?set CARNET_APP_PASSWORD (postgres.env)}"
: "${CARNET_GATEWAY_PASSWORD:?set CARNET_GATEWAY_PASSWORD (postgres.env)}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initdb -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    {
        echo "listen_addresses = '*'"
        echo "password_encryption = 'scram-sha-256'"
    } >> "$PGDATA/postgresql.conf"
    # Every role but the superuser may connect over the container network, with a password.
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"

    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    # psql variables keep the passwords out of the SQL text.
    psql -v ON_ERROR_STOP=1 -U postgres -d postgres \
        -v owner_pw="$CARNET_OWNER_PASSWORD" -v app_pw="$CARNET_APP_PASSWORD" \
        -v gateway_pw="$CARNET_GATEWAY_PASSWORD" <<'SQL'
CREATE ROLE carnet_owner LOGIN CREATEDB PASSWORD :'owner_pw';
CREATE ROLE carnet_app LOGIN PASSWORD :'app_pw';
CREATE ROLE carnet_gateway LOGIN PASSWORD :'gateway_pw';
CREATE DATABASE carnet OWNER carnet_owner ENCODING 'UTF8' TEMPLATE template0;
\c carnet
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
-- Only a superuser may declare these; with them the patient search uses its trigram
-- index under row-level security (carnet.embedded.LEAKPROOF_FUNCTIONS).
ALTER FUNCTION word_similarity_op(text, text) LEAKPROOF;
ALTER FUNCTION word_similarity_commutator_op(text, text) LEAKPROOF;
SQL
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "carnet-postgres: cluster initialised with roles carnet_owner, carnet_app, carnet_gateway"
fi

exec postgres -D "$PGDATA"
