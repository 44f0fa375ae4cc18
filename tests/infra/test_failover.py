"""Automatic failover on a regional node (postgresql_failover: pg_auto_failover).

Three Debian 12 systemd hosts are booted (tests/infra/hosts.py): the monitor (which also
runs Carnet), the primary and the secondary; site.yml deploys them, and a second run
changes nothing. A practice of its own is set up on the node (a practitioner with
personal API tokens, a few patients; tests/infra/failover_setup.py). Then, while 20
clients write consultations and invoice them through Carnet's HTTP API (nginx on the
monitor, HTTPS), the primary's PostgreSQL is killed (SIGKILL) and its host stopped.
Nobody acts: the monitor must promote the secondary and Carnet must reach it.

A client counts a write only when Carnet acknowledged it (201 with the new id, and the
invoice's reference); anything else it sends again with the same Idempotency-Key. After
the recovery, on the new primary: every acknowledged consultation and invoice is there
exactly once with its audit event (synchronous replication: RPO 0), no consultation is
billed twice, the practice's invoice numbers run 1..n without a hole or a repeat, Carnet
answers and `carnet audit verify` passes. The time to recover (RTO) is printed.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.infra import hosts

pytestmark = pytest.mark.skipif(
    bool(hosts.missing_tools()),
    reason=f"cannot boot test hosts here, missing: {', '.join(hosts.missing_tools())}",
)

CLIENTS = 20
PATIENTS = 8
MONITOR_PGDATA = "/var/lib/postgresql/15/monitor"
NODE_PGDATA = "/var/lib/postgresql/15/pgaf"
RTO_LIMIT = 180  # seconds; the cooperative promises 15 min, this small node does far better
SETUP = Path(__file__).with_name("failover_setup.py")
OUT = "/var/lib/carnet/failover-clients"
STORE = "/srv/carnet-backups"
# Carnet's command-line environment, as /usr/local/sbin/carnet sets it up.
NODE_PYTHON = (
    "set -a && . /etc/carnet/carnet.env && . /etc/carnet/owner.env && set +a && "
    "cd /var/lib/carnet && runuser -u carnet -- /opt/carnet/current/bin/python"
)

# Runs on the monitor host with Carnet's Python: CLIENTS threads, each writing a
# consultation for one of the practitioner's patients, then its invoice (a G), through
# https://<monitor>/api/v1/ with its own token. A write counts only once Carnet answered
# 201 with its id: the client then appends it, as one JSON line, to its own file. Any
# other outcome (no answer, a cut connection, 5xx, a timeout) is unknown: the client
# sends the same request again with the same Idempotency-Key until it is acknowledged
# (or the drill ends: then it was never acknowledged). A 4xx is a refusal, written down.
CLIENT_SCRIPT = r"""
import http.client, json, os, ssl, sys, threading, time
from datetime import datetime
from zoneinfo import ZoneInfo

host, setup_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
setup = json.load(open(setup_file))
os.makedirs(out, exist_ok=True)
TLS = ssl._create_unverified_context()  # the node's certificate is self-signed
PARIS = ZoneInfo("Europe/Paris")  # the node's time zone: invoices are dated in it


def stopped():
    return os.path.exists(f"{out}/stop")


def post(token, path, body, key):
    connection = http.client.HTTPSConnection(host, 443, timeout=20, context=TLS)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": key,
            "Content-Type": "application/json", "Accept": "application/json",
            "Connection": "close"})
        response = connection.getresponse()
        raw = response.read()
        replayed = response.getheader("Idempotent-Replayed") == "true"
    finally:
        connection.close()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    return response.status, data, replayed


def client(number):
    token = setup["tokens"][number % len(setup["tokens"])]
    acks = open(f"{out}/acked-{number}", "a", buffering=1)
    errors = open(f"{out}/errors-{number}", "a", buffering=1)

    def until_acknowledged(path, body, key):
        attempts = 0
        while True:
            attempts += 1
            sent = time.time()
            try:
                status, data, replayed = post(token, path, body, key)
            except (OSError, http.client.HTTPException) as error:
                status, data, replayed = 0, type(error).__name__, False
            if status == 201 and isinstance(data, dict) and "id" in data:
                return data, sent, time.time(), attempts, replayed
            if 400 <= status < 500 and status not in (408, 429):
                errors.write(json.dumps({"refused": status, "path": path, "data": data}) + "\n")
                time.sleep(0.3)
                return None
            errors.write(json.dumps({"at": time.time(), "status": status, "key": key,
                                     "data": str(data)[:200]}) + "\n")
            if stopped():
                return None  # never acknowledged
            time.sleep(0.3)

    sequence = 0
    while not stopped():
        sequence += 1
        marker = f"failover {number}-{sequence}"
        patient = setup["patients"][(number + sequence) % len(setup["patients"])]
        done = until_acknowledged(
            f"/api/v1/patients/{patient}/encounters/",
            {"reason": marker, "subjective": "Toux depuis trois jours.", "kind": "office"},
            f"{marker} encounter")
        if done is None:
            continue
        encounter, sent, at, attempts, replayed = done
        acks.write(json.dumps({"kind": "encounter", "id": encounter["id"], "patient": patient,
                               "marker": marker, "sent": sent, "at": at,
                               "attempts": attempts, "replayed": replayed}) + "\n")
        done = until_acknowledged(
            f"/api/v1/patients/{patient}/invoices/",
            {"practitioner": setup["practitioner"], "lines": [{"code": "G"}],
             "service_date": datetime.now(PARIS).date().isoformat(),
             "encounter": encounter["id"]},
            f"{marker} invoice")
        if done is None:
            continue
        invoice, sent, at, attempts, replayed = done
        acks.write(json.dumps({"kind": "invoice", "id": invoice["id"],
                               "reference": invoice["reference"], "encounter": encounter["id"],
                               "sent": sent, "at": at, "attempts": attempts,
                               "replayed": replayed}) + "\n")
        time.sleep(0.05)

threads = [threading.Thread(target=client, args=(n,)) for n in range(int(sys.argv[4]))]
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


def failover_status(monitor: hosts.Host) -> str:
    """The failover line of `carnet ops status`, as an admin reads it over SSH."""
    out = monitor.ssh("/usr/local/sbin/carnet ops status --lang en", check=False).stdout
    lines = [line for line in out.splitlines() if line.split()[1:2] == ["failover"]]
    assert len(lines) == 1, out
    return lines[0]


def owner_url(monitor: hosts.Host) -> str:
    line = monitor.ssh("grep ^DATABASE_OWNER_URL= /etc/carnet/owner.env").stdout.strip()
    return line.split("=", 1)[1].strip("'")


def acknowledged(monitor: hosts.Host) -> list[dict[str, Any]]:
    """Every write the clients were told succeeded, each with its client's number."""
    listing = monitor.ssh(f"cd {OUT} && grep -H . acked-* || true").stdout
    writes = []
    for line in listing.splitlines():
        name, record = line.split(":", 1)
        writes.append({**json.loads(record), "client": int(name.split("-")[1])})
    return writes


def refusals(monitor: hosts.Host) -> list[str]:
    """The writes Carnet refused (4xx): there should be none."""
    return monitor.ssh(f"cd {OUT} && grep -h refused errors-* || true").stdout.splitlines()


def query(host: hosts.Host, sql: str) -> list[list[str]]:
    """Rows of a query on the carnet database, as the superuser (around row-level security)."""
    result = host.ssh(
        f"runuser -u postgres -- psql -XAt -F '|' -d carnet -c {shlex.quote(sql)}", timeout=60
    )
    return [line.split("|") for line in result.stdout.splitlines() if line]


def setup_practice(monitor: hosts.Host) -> dict[str, Any]:
    """The drill's practice, practitioner, tokens and patients, made on the node."""
    monitor.ssh("install -m 0644 /dev/stdin /opt/carnet/failover-setup.py", input=SETUP.read_text())
    result = monitor.ssh(
        f"{NODE_PYTHON} /opt/carnet/failover-setup.py {PATIENTS} {CLIENTS}", timeout=300
    )
    setup: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    monitor.ssh(
        "install -o carnet -g carnet -m 0600 /dev/stdin /var/lib/carnet/failover-setup.json",
        input=json.dumps(setup),
    )
    return setup


def test_the_secondary_takes_over_when_the_primary_dies_and_no_acknowledged_write_is_lost(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    wheelhouse = hosts.ensure_wheelhouse()
    names = ["monitor", "pg-1", "pg-2", "bk-store", "fresh"]
    with hosts.boot_hosts(names) as (monitor, primary, secondary, store, fresh):
        inventory = hosts.write_inventory(
            tmp_path / "inventory",
            {"monitor": [monitor], "primary": [primary], "standby": [secondary], "backup": [store]},
            example="regional-node-failover",
            server_name=monitor.ip,
        )
        # The cooperative's backup public key and a backup host: the dumps and base
        # backups run on Carnet's host, every data node archives its WAL, all pushed there.
        public_key, secret_key, _fingerprint = hosts.cooperative_key(tmp_path)
        keys = inventory / "files" / "backup-keys"
        keys.mkdir(parents=True, exist_ok=True)
        shutil.copy(public_key, keys / public_key.name)
        (inventory / "group_vars" / "all" / "backups.yml").write_text(
            f"---\nbackups_target: {store.name}\n"
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
        for node in (primary, secondary):
            assert query(node, "SELECT current_setting('archive_mode')") == [["always"]]
        # The night's base backup, taken on Carnet's host from pg-1, goes to the backup host.
        monitor.start_unit("carnet-basebackup.service", timeout=600)
        assert store.ssh(f"ls {STORE}/{monitor.name}/*.base.tar.gpg").stdout.strip()
        # The admin's status reads the monitor: pg-1 primary, pg-2 its steady secondary.
        assert failover_status(monitor).split() == [
            "OK",
            "failover",
            "primary",
            "pg-1:",
            "pg-1",
            "primary,",
            "pg-2",
            "secondary",
        ]

        setup = setup_practice(monitor)
        api_get = (
            "curl -sk -o /dev/null -w '%{http_code}' -H "
            + shlex.quote(f"Authorization: Bearer {setup['tokens'][0]}")
            + f" https://{monitor.ip}/api/v1/patients/{setup['patients'][0]}/"
        )
        assert monitor.ssh(api_get).stdout == "200"

        # The clients write through Carnet's API, from a transient systemd unit (the SSH
        # session returns at once).
        monitor.ssh(
            "install -m 0644 /dev/stdin /opt/carnet/failover-clients.py", input=CLIENT_SCRIPT
        )
        monitor.ssh(
            "systemd-run --unit=failover-clients --uid=carnet --gid=carnet "
            "--working-directory=/var/lib/carnet /opt/carnet/current/bin/python "
            f"/opt/carnet/failover-clients.py {monitor.ip} /var/lib/carnet/failover-setup.json "
            f"{OUT} {CLIENTS}"
        )

        def invoices_per_client() -> Counter[int]:
            return Counter(w["client"] for w in acknowledged(monitor) if w["kind"] == "invoice")

        wait_for(
            f"all {CLIENTS} clients have written and billed consultations",
            lambda: len(per := invoices_per_client()) == CLIENTS and min(per.values()) >= 3,
            timeout=180,
            interval=2,
        )
        assert refusals(monitor) == []

        # Kill the primary's PostgreSQL, then stop its host.
        killed_at = float(
            primary.ssh(
                f"kill -9 $(head -1 {NODE_PGDATA}/postmaster.pid) && date +%s.%N"
            ).stdout.strip()
        )
        hosts._stop_host(primary)
        stopped_at = time.time()
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

        # The clients write again, through Carnet, to the new primary. The RTO runs from
        # the SIGKILL to the first write acknowledged afterwards; only a request sent
        # once the old primary's host was down counts (it cannot have been served by it).
        def served_by_the_new_primary() -> list[float]:
            return sorted(w["at"] for w in acknowledged(monitor) if w["sent"] > stopped_at)

        first = wait_for(
            "writes acknowledged after the kill",
            served_by_the_new_primary,
            timeout=RTO_LIMIT,
            interval=1,
        )[0]
        rto = first - killed_at
        wait_for("Carnet answers again", lambda: monitor.ssh(healthz).stdout == "200", 60)
        wait_for(
            "every client writes again",
            lambda: (
                len({w["client"] for w in acknowledged(monitor) if w["sent"] > stopped_at})
                == CLIENTS
            ),
            timeout=120,
            interval=2,
        )
        monitor.ssh(f"touch {OUT}/stop")
        wait_for(
            "the clients stop",
            lambda: (
                monitor.ssh("systemctl is-active failover-clients", check=False).stdout.strip()
                != "active"
            ),
            timeout=90,
        )

        writes = acknowledged(monitor)
        before_kill = sum(1 for w in writes if w["at"] <= killed_at)
        retried = sum(1 for w in writes if w["attempts"] > 1)
        replayed = sum(1 for w in writes if w["replayed"])
        assert refusals(monitor) == []
        check_writes(secondary, setup, writes)

        # The admin's status says who is primary now, and that it is alone.
        after = failover_status(monitor)
        hosts.log(f"carnet ops status after the failover: {after}")
        assert after.startswith("WARNING  failover       primary pg-2: "), after
        assert "writes are not copied to a standby" in after

        # The nightly backup, on Carnet's host, now dumps the new primary: every
        # consultation acknowledged during the drill is in it.
        check_backup(monitor, secondary, secret_key)
        check_point_in_time_recovery(
            monitor, secondary, store, fresh, setup, secret_key, tmp_path, extravars
        )

        # Carnet answers, and the audit trail still verifies.
        assert monitor.ssh(api_get).stdout == "200"
        verify = monitor.ssh("/usr/local/sbin/carnet audit verify", check=False, timeout=300)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        encounters = sum(1 for w in writes if w["kind"] == "encounter")
        print(
            f"[failover] RTO (SIGKILL of the primary to the first write acknowledged by "
            f"Carnet on the new primary): {rto:.1f} s. RPO (synchronous): 0 of "
            f"{before_kill} writes acknowledged before the kill lost; {len(writes)} writes "
            f"acknowledged in all by {CLIENTS} clients ({encounters} consultations, "
            f"{len(writes) - encounters} invoices), all present exactly once, invoice "
            f"numbers gapless; {retried} acknowledged after a retry ({replayed} of them "
            f"answered by an idempotent replay).",
            flush=True,
        )
        assert rto < RTO_LIMIT
    print(f"[timing] test_failover: {time.monotonic() - started:.1f} s", flush=True)


# Decrypts the newest dump with the cooperative's secret key (brought for the check, in a
# throwaway keyring) and counts the consultations it holds.
COUNT_IN_DUMP = r"""
set -eu
home=$(mktemp -d)
trap 'gpgconf --homedir "$home" --kill all; rm -rf "$home"' EXIT
gpg --homedir "$home" --batch --quiet --import /root/cooperative-backup.secret.asc
dump=$(ls /var/backups/carnet/*.dump.gpg | tail -1)
gpg --homedir "$home" --batch --quiet --pinentry-mode loopback --passphrase '' --decrypt "$dump" \
  | pg_restore --data-only --table=records_encounter --file=- \
  | awk '/^COPY /{copy=1; next} /^\\\.$/{copy=0} copy' | wc -l
"""


def check_backup(monitor: hosts.Host, primary: hosts.Host, secret_key: Path) -> None:
    assert monitor.ssh("systemctl is-enabled carnet-backup.timer").stdout.strip() == "enabled"
    monitor.start_unit("carnet-backup.service", timeout=600)
    status = monitor.ssh("/usr/local/sbin/carnet ops status --lang en", check=False).stdout
    assert any(line.startswith("OK       backup") for line in status.splitlines()), status
    monitor.ssh(
        "install -m 0600 /dev/stdin /root/cooperative-backup.secret.asc",
        input=secret_key.read_text(),
    )
    try:
        in_dump = int(monitor.ssh("bash -s", input=COUNT_IN_DUMP, timeout=300).stdout.strip())
    finally:
        monitor.ssh("rm -f /root/cooperative-backup.secret.asc")
    on_primary = int(query(primary, "SELECT count(*) FROM records_encounter")[0][0])
    hosts.log(f"the backup after the failover holds {in_dump} consultations")
    assert in_dump == on_primary > 0


def api_consultation(monitor: hosts.Host, setup: dict[str, Any], reason: str) -> str:
    """A consultation written through Carnet's API; the node's clock once acknowledged."""
    body = json.dumps({"reason": reason, "subjective": "Contrôle.", "kind": "office"})
    status = monitor.ssh(
        "curl -sk -o /dev/null -w '%{http_code}' -X POST"
        f" -H {shlex.quote('Authorization: Bearer ' + setup['tokens'][0])}"
        " -H 'Content-Type: application/json'"
        f" -H {shlex.quote('Idempotency-Key: ' + reason)} -d {shlex.quote(body)}"
        f" https://{monitor.ip}/api/v1/patients/{setup['patients'][0]}/encounters/"
    ).stdout
    assert status == "201", status
    return monitor.ssh("date '+%F %T'").stdout.strip()


def check_point_in_time_recovery(
    monitor: hosts.Host,
    primary: hosts.Host,
    store: hosts.Host,
    fresh: hosts.Host,
    setup: dict[str, Any],
    secret_key: Path,
    tmp_path: Path,
    extravars: dict[str, Any],
) -> None:
    """Two consultations a minute apart on the new primary; a fresh host recovered from
    the backup host (the base backup taken on pg-1 before the failover, the WAL of both
    sides of it) to the minute between them holds the first, not the second."""
    first = api_consultation(monitor, setup, "PITR first consultation")
    time.sleep(61 - int(monitor.ssh("date +%S").stdout))  # into the node's next minute
    target = monitor.ssh("date '+%Y-%m-%d %H:%M'").stdout.strip()
    time.sleep(1)
    second = api_consultation(monitor, setup, "PITR second consultation")
    hosts.log(f"PITR: first {first}, target {target}, second {second}")
    [[switched]] = query(primary, "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for(
        f"{switched} archived on the new primary",
        lambda: (
            primary.ssh(f"test -f /var/backups/carnet-wal/{switched}.gpg", check=False).returncode
            == 0
        ),
        timeout=120,
    )
    primary.start_unit("carnet-wal-push.service", timeout=300)
    wal = store.ssh(f"ls {STORE}/{monitor.name}/wal").stdout.split()
    assert f"{switched}.gpg" in wal and "00000002.history.gpg" in wal, wal
    assert any(name.startswith("00000001") for name in wal), wal

    fresh_inventory = hosts.write_inventory(
        tmp_path / "fresh", {"primary": [fresh], "backup": [store]}, example="regional-node"
    )
    result = hosts.run_playbook("site.yml", fresh_inventory, extravars, label="site.yml, fresh")
    assert result.ok, result.failure_report()
    with hosts.timed("pitr.yml onto the fresh host"):
        recovered = hosts.run_playbook(
            "pitr.yml",
            fresh_inventory,
            {
                **extravars,
                "pitr_target": target,
                "restore_backup_node": monitor.name,
                "restore_private_key": str(secret_key),
            },
            label="pitr.yml",
        )
    assert recovered.ok, recovered.failure_report()
    reasons = (
        "SELECT string_agg(reason, ' + ' ORDER BY id) FROM records_encounter"
        " WHERE reason LIKE 'PITR %'"
    )
    assert query(primary, reasons) == [["PITR first consultation + PITR second consultation"]]
    assert query(fresh, reasons) == [["PITR first consultation"]]
    verify = fresh.ssh("/usr/local/sbin/carnet audit verify", check=False, timeout=300)
    assert verify.returncode == 0 and "Audit trail intact" in verify.stdout, verify.stdout
    assert query(fresh, "SELECT pg_is_in_recovery()") == [["f"]]


def check_writes(node: hosts.Host, setup: dict[str, Any], writes: list[dict[str, Any]]) -> None:
    """On the new primary: every acknowledged write there once, the numbers gapless."""
    audit = Counter(
        (action, target)
        for action, target in query(
            node,
            "SELECT action, target FROM audit_event "
            "WHERE action IN ('encounter.create', 'invoice.issue')",
        )
    )

    # Consultations: each acknowledged one is there with its marker, and no marker twice
    # (a retry executed again would store its consultation a second time).
    stored = {
        int(pk): (int(patient), reason)
        for pk, patient, reason in query(
            node,
            "SELECT id, patient_id, reason FROM records_encounter WHERE reason LIKE 'failover %'",
        )
    }
    encounters = [w for w in writes if w["kind"] == "encounter"]
    missing = [w for w in encounters if stored.get(w["id"]) != (w["patient"], w["marker"])]
    assert not missing, f"{len(missing)} of {len(encounters)} consultations lost: {missing[:5]}"
    twice = [m for m, n in Counter(r for _p, r in stored.values()).items() if n > 1]
    assert twice == [], f"consultations stored twice: {twice[:5]}"
    unaudited = [w for w in encounters if audit[("encounter.create", f"encounter:{w['id']}")] != 1]
    assert unaudited == [], unaudited[:5]

    # Invoices: each acknowledged one issued once, for its consultation; none billed twice.
    issued = {
        int(pk): (reference, int(encounter) if encounter else None, int(number))
        for pk, reference, encounter, number in query(
            node,
            "SELECT id, reference, encounter_id, number FROM billing_invoice "
            f"WHERE practice_id = {int(setup['practice'])} AND status = 'issued'",
        )
    }
    invoices = [w for w in writes if w["kind"] == "invoice"]
    missing = [
        w for w in invoices if issued.get(w["id"], ())[:2] != (w["reference"], w["encounter"])
    ]
    assert not missing, f"{len(missing)} of {len(invoices)} invoices lost: {missing[:5]}"
    billed = Counter(encounter for _r, encounter, _n in issued.values())
    assert [e for e, n in billed.items() if n > 1] == [], "a consultation billed twice"
    unaudited = [w for w in invoices if audit[("invoice.issue", f"invoice:{w['reference']}")] != 1]
    assert unaudited == [], unaudited[:5]

    # The practice's invoice numbers (one practitioner: one series) run 1..n, no hole.
    practice = int(setup["practice"])
    issuers = query(
        node, f"SELECT DISTINCT issuer_id FROM billing_invoice WHERE practice_id = {practice}"
    )
    assert len(issuers) == 1, issuers
    numbers = sorted(number for _r, _e, number in issued.values())
    holes = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    repeats = [n for n, times in Counter(numbers).items() if times > 1]
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"holes {holes[:20]}, repeats {repeats[:20]}"
    )
