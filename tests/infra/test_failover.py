"""Automatic failover on a regional node (postgresql_failover: pg_auto_failover).

Three Debian 12 systemd hosts are booted (tests/infra/hosts.py): the monitor (which also
runs Carnet), the primary and the secondary; site.yml deploys them, and a second run
changes nothing. Then, while clients write through Carnet's database URL (the libpq
multi-host string with target_session_attrs=read-write that Carnet's processes use), the
primary's PostgreSQL is killed (SIGKILL) and its host stopped. Nobody acts: the monitor
must promote the secondary, the clients and Carnet must reach it, and every write
acknowledged before the kill must be there exactly once (synchronous replication). The
time to recover (RTO) is printed.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from tests.infra import hosts

pytestmark = pytest.mark.skipif(
    bool(hosts.missing_tools()),
    reason=f"cannot boot test hosts here, missing: {', '.join(hosts.missing_tools())}",
)

CLIENTS = 20
MONITOR_PGDATA = "/var/lib/postgresql/15/monitor"
NODE_PGDATA = "/var/lib/postgresql/15/pgaf"
RTO_LIMIT = 180  # seconds; the cooperative promises 15 min, this small node does far better

# Runs on the monitor host with Carnet's Python: CLIENTS threads, each inserting numbered
# rows through the URL Carnet uses (the owner's, so it may create the probe table), and
# writing each acknowledged number (after COMMIT returned) to its own file. A failed write
# is not retried with the same number: it was never acknowledged.
CLIENT_SCRIPT = r"""
import os, sys, threading, time
import psycopg

url, clients, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS failover_probe "
                 "(id bigserial PRIMARY KEY, client int NOT NULL, seq int NOT NULL, "
                 "at timestamptz NOT NULL DEFAULT now())")

def client(number):
    acks = open(f"{out}/acked-{number}", "a", buffering=1)
    errors = open(f"{out}/errors-{number}", "a", buffering=1)
    seq, conn = 0, None
    while not os.path.exists(f"{out}/stop"):
        seq += 1
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(url, connect_timeout=3)
            with conn.transaction():
                conn.execute("INSERT INTO failover_probe (client, seq) VALUES (%s, %s)",
                             (number, seq))
            acks.write(f"{seq} {time.time():.3f}\n")
        except psycopg.Error as error:
            errors.write(f"{seq} {time.time():.3f} {type(error).__name__}\n")
            try:
                conn and conn.close()
            except Exception:
                pass
            conn = None
            time.sleep(0.2)
        time.sleep(0.05)

threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def wait_for(what: str, check, timeout: float, interval: float = 0.5):  # type: ignore[no-untyped-def]
    """Poll ``check()`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as error:  # a host or a server may be down meanwhile
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def node_states(monitor: hosts.Host) -> dict[str, str]:
    """Each data node's reported state, as the monitor sees it."""
    result = monitor.ssh(
        f"cd / && runuser -u postgres -- pg_autoctl show state --pgdata {MONITOR_PGDATA} --json",
        timeout=30,
    )
    return {n["nodename"]: n["current_group_state"] for n in json.loads(result.stdout)}


def owner_url(monitor: hosts.Host) -> str:
    line = monitor.ssh("grep ^DATABASE_OWNER_URL= /etc/carnet/owner.env").stdout.strip()
    return line.split("=", 1)[1].strip("'")


def test_the_secondary_takes_over_when_the_primary_dies_and_no_acknowledged_write_is_lost(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    wheelhouse = hosts.ensure_wheelhouse()
    with hosts.boot_hosts(["monitor", "pg-1", "pg-2"]) as (monitor, primary, secondary):
        inventory = hosts.write_inventory(
            tmp_path / "inventory",
            {"monitor": [monitor], "primary": [primary], "standby": [secondary]},
            example="regional-node-failover",
            server_name=monitor.ip,
        )
        extravars = hosts.node_extravars(wheelhouse, hosts.test_secrets())
        result = hosts.run_playbook(
            "site.yml", inventory, extravars, label="site.yml, monitor + primary + secondary"
        )
        assert result.ok, result.failure_report()
        again = hosts.run_playbook("site.yml", inventory, extravars, label="site.yml again")
        assert again.ok, again.failure_report()
        assert again.changed() == 0, again.changed_tasks()

        # The cluster: pg-1 primary, pg-2 its synchronous secondary; Carnet on the monitor.
        assert node_states(monitor) == {"pg-1": "primary", "pg-2": "secondary"}
        sync = primary.ssh("runuser -u postgres -- psql -XAtc 'SHOW synchronous_standby_names'")
        assert "pgautofailover_standby" in sync.stdout, sync.stdout
        url = owner_url(monitor)
        assert "target_session_attrs=read-write" in url and primary.ip in url
        assert secondary.ip in url
        healthz = f"curl -sk -o /dev/null -w '%{{http_code}}' https://{monitor.ip}/healthz"
        assert monitor.ssh(healthz).stdout == "200"

        # Clients write through Carnet's URL.
        out = "/var/lib/carnet/failover-clients"
        monitor.ssh(
            "cat > /opt/carnet/failover-clients.py && chmod 0644 /opt/carnet/failover-clients.py",
            input=CLIENT_SCRIPT,
        )
        # A transient systemd unit: the SSH session returns at once.
        monitor.ssh(
            "systemd-run --unit=failover-clients --uid=carnet --gid=carnet "
            "--working-directory=/var/lib/carnet /opt/carnet/current/bin/python "
            f"/opt/carnet/failover-clients.py {shlex.quote(url)} {CLIENTS} {out}"
        )

        def acked() -> dict[int, list[tuple[int, float]]]:
            listing = monitor.ssh(f"cd {out} && grep -H . acked-* || true").stdout
            rows: dict[int, list[tuple[int, float]]] = {}
            for line in listing.splitlines():
                name, record = line.split(":", 1)
                seq, at = record.split()
                rows.setdefault(int(name.split("-")[1]), []).append((int(seq), float(at)))
            return rows

        wait_for(
            f"all {CLIENTS} clients have written",
            lambda: len(acked()) == CLIENTS and all(len(r) >= 5 for r in acked().values()),
            timeout=90,
        )

        # Kill the primary's PostgreSQL, then stop its host.
        killed_at = float(
            primary.ssh(
                f"kill -9 $(head -1 {NODE_PGDATA}/postmaster.pid) && date +%s.%N"
            ).stdout.strip()
        )
        hosts._stop_host(primary)
        hosts.log(f"killed the primary's PostgreSQL and stopped {primary.name}")

        # Nobody acts: the monitor promotes the secondary.
        with hosts.timed("the secondary is promoted"):
            wait_for(
                "pg-2 promoted",
                lambda: node_states(monitor).get("pg-2") in ("wait_primary", "primary"),
                timeout=RTO_LIMIT,
                interval=1,
            )
        assert (
            secondary.ssh(
                "runuser -u postgres -- psql -XAtc 'SELECT pg_is_in_recovery()'"
            ).stdout.strip()
            == "f"
        )

        # The clients write again, through the same URL, to the new primary.
        def writes_after_kill() -> list[float]:
            return sorted(at for rows in acked().values() for _, at in rows if at > killed_at)

        first = wait_for(
            "writes acknowledged after the kill", writes_after_kill, timeout=RTO_LIMIT
        )[0]
        rto = first - killed_at
        wait_for("Carnet answers again", lambda: monitor.ssh(healthz).stdout == "200", 60)
        wait_for(
            "every client writes again",
            lambda: len({c for c, rows in acked().items() if rows[-1][1] > killed_at}) == CLIENTS,
            timeout=120,
        )
        monitor.ssh(f"touch {out}/stop")
        time.sleep(1)

        # Every acknowledged write is there exactly once.
        acknowledged = acked()
        stored = secondary.ssh(
            "runuser -u postgres -- psql -XAt -d carnet -c "
            "'SELECT client, seq, count(*) FROM failover_probe GROUP BY client, seq'"
        ).stdout
        counts = {
            (int(c), int(s)): int(n) for c, s, n in (line.split("|") for line in stored.split())
        }
        missing = [
            (client, seq)
            for client, rows in acknowledged.items()
            for seq, _ in rows
            if counts.get((client, seq)) != 1
        ]
        total = sum(len(rows) for rows in acknowledged.values())
        assert not missing, f"{len(missing)} of {total} acknowledged writes missing: {missing[:20]}"
        assert all(n == 1 for n in counts.values()), "a write stored twice"

        # The audit trail still verifies.
        verify = monitor.ssh("/usr/local/sbin/carnet audit verify", check=False, timeout=300)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        print(
            f"[failover] RTO (SIGKILL of the primary to the first write acknowledged by the "
            f"new primary): {rto:.1f} s; {total} writes acknowledged by {CLIENTS} clients, "
            f"all present exactly once",
            flush=True,
        )
        assert rto < RTO_LIMIT
    print(f"[timing] test_failover: {time.monotonic() - started:.1f} s", flush=True)
