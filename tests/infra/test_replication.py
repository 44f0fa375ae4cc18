"""The regional-node inventory (a primary and a standby) brings up a streaming standby:
a row written on the primary appears on the standby, which is read-only.

Two Debian 12 systemd hosts are booted (tests/infra/hosts.py) on one test network, and
site.yml runs on both with ansible-runner over SSH, exactly as for a real regional node.
"""

from __future__ import annotations

import secrets
import socket
import tempfile
import time
from pathlib import Path

import pytest

from tests.infra import hosts

pytestmark = pytest.mark.skipif(
    bool(hosts.missing_tools()),
    reason=f"cannot boot test hosts here, missing: {', '.join(hosts.missing_tools())}",
)


def psql(host: hosts.Host, sql: str, *, check: bool = True, database: str = "carnet") -> str:
    """SQL as the postgres superuser over the local socket; the output, trimmed."""
    result = host.ssh(
        f"runuser -u postgres -- psql -XAt -v ON_ERROR_STOP=1 -d {database}",
        input=sql,
        check=check,
    )
    return (result.stdout + (result.stderr if not check else "")).strip()


def test_a_row_written_on_the_primary_appears_on_the_read_only_standby() -> None:
    started = time.monotonic()
    wheelhouse = hosts.ensure_wheelhouse()
    with hosts.boot_hosts(["lyon-1", "lyon-2"]) as (primary, standby):
        with tempfile.TemporaryDirectory() as tmp:
            inventory = hosts.write_inventory(
                Path(tmp) / "inventory",
                {"primary": [primary], "standby": [standby]},
                example="regional-node",
            )
            secrets_ = hosts.test_secrets()
            result = hosts.run_playbook(
                "site.yml",
                inventory,
                hosts.node_extravars(wheelhouse, secrets_),
                label="site.yml, regional node (primary + standby)",
            )
            assert result.ok, result.failure_report()

        # The standby is a hot standby, in recovery, streaming from the primary.
        assert psql(standby, "SELECT pg_is_in_recovery()") == "t"
        assert psql(primary, "SELECT pg_is_in_recovery()") == "f"
        streaming = psql(
            primary, "SELECT client_addr, state FROM pg_stat_replication", database="postgres"
        )
        assert streaming == f"{standby.ip}|streaming", streaming

        # A row written on the primary, as the owner role over TCP with its password.
        token = secrets.token_hex(8)
        primary.ssh(
            'PGPASSWORD="$(cat)" psql -XAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -U carnet_owner '
            "-d carnet -c 'CREATE TABLE IF NOT EXISTS replication_probe (token text)' "
            f"-c \"INSERT INTO replication_probe VALUES ('{token}')\"",
            input=secrets_["carnet_db_owner_password"],
        )
        with hosts.timed("the row reaches the standby"):
            deadline = time.monotonic() + 60
            seen = ""
            while time.monotonic() < deadline:
                seen = psql(standby, "SELECT token FROM replication_probe", check=False)
                if token in seen:
                    break
                time.sleep(0.5)
        assert token in seen, f"the standby did not get the row in 60 s: {seen}"

        # Carnet's own tables are there too (migrated on the primary).
        assert int(psql(standby, "SELECT count(*) FROM django_migrations")) > 0

        # The standby refuses writes.
        refused = psql(standby, "INSERT INTO replication_probe VALUES ('no')", check=False)
        assert "read-only transaction" in refused, refused

        # Only the standby may reach the primary's PostgreSQL port; the controller may not.
        reach = standby.ssh(
            f"timeout 5 bash -c 'exec 3<>/dev/tcp/{primary.ip}/5432' && echo open", check=False
        )
        assert reach.stdout.strip() == "open"
        with socket.socket() as sock:
            sock.settimeout(3)
            with pytest.raises(OSError):
                sock.connect((primary.ip, 5432))
    print(f"[timing] test_replication: {time.monotonic() - started:.1f} s", flush=True)
