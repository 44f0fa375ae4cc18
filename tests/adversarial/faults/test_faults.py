"""Faults without loss.

A real Carnet (gunicorn, several workers, production settings behind a TLS proxy) on a
PostgreSQL cluster of its own. Fifty clients write consultations, issue invoices for them
and take payments through the API with personal tokens, while gunicorn workers are
killed with SIGKILL (the master starts new ones) and PostgreSQL is restarted, cleanly
("fast": sessions are cut) and by a crash ("immediate": the write-ahead log is replayed).

A client counts a write only when it was acknowledged (2xx with the new id); anything
else it retries, with the same idempotency key. One client in five is impatient: it
gives up on a slow answer that the server may still commit, so retries of writes that
were in fact stored happen in every run (without idempotency keys they would be stored
twice, and this test fails). Afterwards every acknowledged write is
in the database exactly once with its audit event, each issuer's invoice numbers run
1..n without a hole or a repeat, `carnet audit verify` passes, and the same gunicorn,
never restarted, answers again.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import psycopg

from carnet import embedded
from tests.adversarial import counts
from tests.adversarial.faults.cluster import Cluster, free_port
from tests.live_server import CARNET, carnet_env

SETUP = Path(__file__).with_name("setup_clients.py")
PARIS = ZoneInfo("Europe/Paris")  # the node's time zone: invoices are dated in it
CLIENTS = 50
WORKERS = 4
TOKENS_PER_GP = 5
# After the last fault the clients keep writing a little while, so that writes made
# after it are checked too.
AFTER_FAULTS = 8
# One client in five waits this long for an answer, then retries.
IMPATIENT = 1.5
# A write that cannot get through within this time means the service did not recover.
GIVE_UP_AFTER = 90


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    def request(
        self,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        key: str = "",
        timeout: float = 70,
    ) -> tuple[int, Any]:
        """One HTTP request; (status, JSON) or raises OSError / http.client errors."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Forwarded-Proto": "https",  # as the TLS proxy in front of a node sets it
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Connection": "close",
        }
        if key:
            headers["Idempotency-Key"] = key
        try:
            payload = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, data

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()


@dataclass
class Ledger:
    """What one client was told succeeded, and what went wrong on the way."""

    encounters: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    refusals: list[str] = field(default_factory=list)
    # Seconds the client waits for an answer. Impatient clients give up on slow
    # requests that the server may still complete: the retry must not write twice.
    patience: float = 70


class GaveUp(Exception):
    pass


def until_acknowledged(
    server: Server, ledger: Ledger, method: str, path: str, token: str, body: Any, key: str
) -> Any:
    """Send the write until it is acknowledged; the same idempotency key every time."""
    deadline = time.monotonic() + GIVE_UP_AFTER
    attempt = 0
    while True:
        attempt += 1
        # An impatient client waits a little longer each time: on a busy machine it
        # still gets its answer in the end.
        patience = min(70, ledger.patience * attempt)
        try:
            status, data = server.request(method, path, token, body, key, patience)
        except (OSError, http.client.HTTPException):
            status, data = 0, None  # a killed worker or a cut connection: unknown outcome
        if 200 <= status < 300 and isinstance(data, dict) and "id" in data:
            return data
        if 400 <= status < 500:
            ledger.refusals.append(f"{method} {path} -> {status} {data}")
            raise GaveUp(path)
        ledger.retries += 1
        if time.monotonic() > deadline:
            raise GaveUp(f"{path}: not acknowledged within {GIVE_UP_AFTER} s")
        time.sleep(random.uniform(0.1, 0.5))


def client(
    server: Server,
    number: int,
    gp: dict[str, Any],
    stop: threading.Event,
    ledger: Ledger,
) -> None:
    """Consultation, then its invoice, then the payment at the desk; again and again."""
    token = gp["tokens"][number % len(gp["tokens"])]
    rng = random.Random(number)
    sequence = 0
    try:
        while True:
            sequence += 1
            marker = f"faults {number}-{sequence} {secrets.token_hex(4)}"
            patient = rng.choice(gp["patients"])
            encounter = until_acknowledged(
                server,
                ledger,
                "POST",
                f"/api/v1/patients/{patient}/encounters/",
                token,
                {"reason": marker, "subjective": "Toux depuis trois jours.", "kind": "office"},
                key=f"{marker} encounter",
            )
            ledger.encounters.append({"id": encounter["id"], "patient": patient, "reason": marker})
            invoice = until_acknowledged(
                server,
                ledger,
                "POST",
                f"/api/v1/patients/{patient}/invoices/",
                token,
                {
                    "practitioner": gp["gp"],
                    "service_date": datetime.now(PARIS).date().isoformat(),
                    "lines": [{"code": "G"}],
                    "encounter": encounter["id"],
                },
                key=f"{marker} invoice",
            )
            ledger.invoices.append(
                {
                    "id": invoice["id"],
                    "reference": invoice["reference"],
                    "encounter": encounter["id"],
                    "due": invoice["due_at_desk"],
                }
            )
            if Decimal(invoice["due_at_desk"]) > 0:
                payment = until_acknowledged(
                    server,
                    ledger,
                    "POST",
                    f"/api/v1/invoices/{invoice['id']}/payments/",
                    token,
                    {"method": "card", "amount": invoice["due_at_desk"]},
                    key=f"{marker} payment".replace(" ", "-")[:64],
                )
                ledger.payments.append(
                    {"id": payment["id"], "invoice": invoice["id"], "amount": payment["amount"]}
                )
            if stop.is_set():
                return
    except GaveUp as error:
        ledger.refusals.append(str(error))


def wait_until_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("Carnet did not become healthy")


def inject_faults(server: Server, cluster: Cluster, start: float) -> dict[str, int]:
    """The schedule: workers killed seven times (twice two at once), PostgreSQL restarted
    four times: fast (sessions cut, clean shutdown), immediate (a crash, the write-ahead
    log replayed at start), and once left down for a few seconds."""
    done = {"workers killed": 0, "database restarts": 0}
    plan: list[tuple[float, str, Any]] = [
        (4, "kill", 1),
        (9, "kill", 2),
        (14, "restart", "fast"),
        (20, "kill", 1),
        (25, "restart", "immediate"),
        (30, "kill", 2),
        (35, "down", 3),
        (41, "kill", 1),
        (45, "kill", 1),
        (45, "restart", "fast"),
    ]
    for second, fault, argument in plan:
        time.sleep(max(0.0, start + second - time.monotonic()))
        if fault == "kill":
            workers = server.workers()
            for worker in random.sample(workers, min(argument, len(workers))):
                os.kill(worker.pid, signal.SIGKILL)
                done["workers killed"] += 1
        elif fault == "restart":
            cluster.restart(argument)
            done["database restarts"] += 1
        else:  # a crash, and the database stays away a few seconds before it is back
            cluster.stop("immediate")
            time.sleep(argument)
            cluster.start()
            done["database restarts"] += 1
    return done


def migrated_carnet(cluster: Cluster, var_dir: Path) -> dict[str, str]:
    embedded.bootstrap(cluster.conninfo(), embedded.DATABASE)
    where = f"{embedded.DATABASE}?host=127.0.0.1&port={cluster.port}"
    # Production settings: a node behind its TLS proxy.
    env = carnet_env(
        where,
        var_dir,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        BEHIND_PROXY="true",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    for name in ("DATABASE_CONN_MAX_AGE", "CARNET_TEST_DATABASE"):
        env.pop(name, None)  # the production default: connections kept for 60 s
    subprocess.run([CARNET, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([CARNET, "load_fees"], env=env, check=True, capture_output=True)
    subprocess.run(
        [CARNET, "demo_data", "--patients", "20"], env=env, check=True, capture_output=True
    )
    return env


def test_acknowledged_writes_survive_killed_workers_and_database_restarts(
    tmp_path: Path,
) -> None:
    cluster = Cluster.create(free_port())
    server: Server | None = None
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    try:
        env = migrated_carnet(cluster, tmp_path / "var")
        gps = json.loads(
            subprocess.run(
                [sys.executable, str(SETUP), str(TOKENS_PER_GP)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.splitlines()[-1]
        )
        port = free_port()
        process = subprocess.Popen(
            [CARNET, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = Server(port=port, process=process)
        wait_until_healthy(port, process)
        master = process.pid

        stop = threading.Event()
        ledgers = [Ledger(patience=IMPATIENT if n % 5 == 0 else 70) for n in range(CLIENTS)]
        threads = [
            threading.Thread(
                target=client, args=(server, n, gps[n % 2], stop, ledgers[n]), daemon=True
            )
            for n in range(CLIENTS)
        ]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        faults = inject_faults(server, cluster, start)
        time.sleep(AFTER_FAULTS)
        stop.set()
        for thread in threads:
            thread.join(timeout=GIVE_UP_AFTER + 30)
        assert not any(thread.is_alive() for thread in threads)

        # The service recovers by itself. PostgreSQL restarts once more while nobody
        # writes: every worker's kept connection is now dead, yet the very next requests
        # all succeed (connections are health-checked before use), served by the same
        # gunicorn master, never restarted.
        cluster.restart("fast")
        faults["database restarts"] += 1
        assert process.poll() is None and process.pid == master
        token = gps[0]["tokens"][0]
        after = [server.request("GET", "/api/v1/patients/", token)[0] for _ in range(4 * WORKERS)]
        assert after == [200] * (4 * WORKERS)
        once = threading.Event()
        once.set()  # one consultation, its invoice and its payment, then stop
        ledgers.append(Ledger())
        client(server, CLIENTS, gps[0], once, ledgers[-1])
        assert ledgers[-1].retries == 0 and len(ledgers[-1].invoices) == 1

        refusals = [refusal for ledger in ledgers for refusal in ledger.refusals]
        assert refusals == [], refusals[:5]
        encounters = [e for ledger in ledgers for e in ledger.encounters]
        invoices = [i for ledger in ledgers for i in ledger.invoices]
        payments = [p for ledger in ledgers for p in ledger.payments]
        retries = sum(ledger.retries for ledger in ledgers)
        # The faults did reach the clients (otherwise this test would prove nothing).
        assert retries > 0
        assert len(encounters) >= CLIENTS

        check_database(cluster, encounters, invoices, payments)

        verify = subprocess.run(
            [CARNET, "audit", "verify"], env=env, capture_output=True, text=True, timeout=300
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr

        acknowledged = len(encounters) + len(invoices) + len(payments)
        counts.record("faults", "workers killed", faults["workers killed"])
        counts.record("faults", "database restarts", faults["database restarts"])
        counts.record("faults", "acknowledged writes checked", acknowledged)
        counts.record("faults", "requests retried by clients", retries)
        assert faults["workers killed"] >= 5 and faults["database restarts"] >= 3
    finally:
        if server is not None and server.process.poll() is None:
            server.process.terminate()
            server.process.wait(timeout=30)
        log.close()
        cluster.destroy()


def check_database(
    cluster: Cluster,
    encounters: list[dict[str, Any]],
    invoices: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> None:
    """Read the database directly (superuser, around row-level security)."""
    with psycopg.connect(cluster.conninfo(dbname=embedded.DATABASE)) as conn:

        def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

        audit = Counter(
            (action, target) for action, target in rows("SELECT action, target FROM audit_event")
        )

        # Consultations: each acknowledged one is there, once (a retried request whose
        # first attempt had in fact been stored would show its marker twice).
        stored = {
            pk: (patient, reason)
            for pk, patient, reason in rows(
                "SELECT id, patient_id, reason FROM records_encounter WHERE reason LIKE 'faults %%'"
            )
        }
        for encounter in encounters:
            assert stored.get(encounter["id"]) == (encounter["patient"], encounter["reason"])
            assert audit[("encounter.create", f"encounter:{encounter['id']}")] == 1
        markers = Counter(reason for _patient, reason in stored.values())
        assert [m for m, n in markers.items() if n > 1] == [], "a consultation stored twice"

        # Invoices: each acknowledged one is issued, for its consultation, once.
        issued = {
            pk: (reference, encounter)
            for pk, reference, encounter in rows(
                "SELECT id, reference, encounter_id FROM billing_invoice WHERE status = 'issued'"
            )
        }
        for invoice in invoices:
            assert issued.get(invoice["id"]) == (invoice["reference"], invoice["encounter"])
            assert audit[("invoice.issue", f"invoice:{invoice['reference']}")] == 1
        per_encounter = Counter(encounter for _ref, encounter in issued.values() if encounter)
        assert [e for e, n in per_encounter.items() if n > 1] == [], "a consultation billed twice"

        # Invoice numbers: per issuer, 1..n, no hole, no repeat (the demo's invoices too).
        numbers: dict[int, list[int]] = {}
        for issuer, number in rows(
            "SELECT issuer_id, number FROM billing_invoice WHERE status = 'issued'"
        ):
            numbers.setdefault(issuer, []).append(number)
        for issuer, issued_numbers in numbers.items():
            assert sorted(issued_numbers) == list(range(1, len(issued_numbers) + 1)), issuer

        # Payments: each acknowledged one is there, allocated to its invoice, once; no
        # invoice is paid more than it asked.
        allocations = rows("SELECT payment_id, invoice_id, amount FROM billing_allocation")
        by_payment = Counter(payment for payment, _invoice, _amount in allocations)
        paid: dict[int, Decimal] = {}
        for _payment, invoice_id, amount in allocations:
            paid[invoice_id] = paid.get(invoice_id, Decimal(0)) + amount
        invoice_of = {payment: invoice for payment, invoice, _amount in allocations}
        for payment in payments:
            assert by_payment[payment["id"]] == 1
            assert invoice_of[payment["id"]] == payment["invoice"]
        for invoice in invoices:
            assert paid.get(invoice["id"], Decimal(0)) <= Decimal(invoice["due"])
        reference_of = {pk: reference for pk, (reference, _e) in issued.items()}
        payments_per_invoice = Counter(payment["invoice"] for payment in payments)
        for invoice_id, n in payments_per_invoice.items():
            assert n == 1
            assert audit[("payment.record", f"invoice:{reference_of[invoice_id]}")] == 1
