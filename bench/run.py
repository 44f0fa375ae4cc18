"""`make bench`: build (or reuse) a benchmark node, serve it as in production, load it,
and write bench/report.json and the results section of docs/performance.md.

Parameters (environment):

    BENCH_PATIENTS=1000000 BENCH_ENTRIES=20000000 BENCH_PRACTICES=50
    BENCH_AUDIT_EVENTS=1000000   audit trail size for `carnet audit verify`
    BENCH_CACHE=/var/cache/carnet/bench   where built nodes are kept (keyed by parameters)
    BENCH_FIXED_SECONDS=20 BENCH_SATURATION_SECONDS=15 BENCH_CONNECTIONS=16
    BENCH_WORKERS=(gunicorn workers; default as `carnet serve`)
    BENCH_WORKER_CLASS=gthread   or sync (the server before keep-alive, for comparison)
    BENCH_IMPORT_RUNS=3          FHIR imports measured (the median is reported)
    BENCH_BUILD_ONLY=1           stop after building the node
    BENCH_DOCS=0                 do not rewrite docs/performance.md
    BENCH_OPERATIONS=chart_json,patient_search   only these (development; no report)

Steps: build the node (PostgreSQL 15 cluster, migrations, reference data, `carnet
generate_volume`, an audit trail topped up to BENCH_AUDIT_EVENTS), restart PostgreSQL
with production settings, give each practice's GP a token and a verified session, start
`carnet serve` (gunicorn, DEBUG off, audit on) on a free loopback port, then for each
operation: a fixed-rate run (bench/fixed_rate.py, latency from each request's due time),
a saturation run (wrk), and the same reads replayed by raw psycopg; memory under load;
FHIR import throughput; `carnet audit verify` time; machine facts.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from node import APP, DATABASE, OWNER, SERVE_SETTINGS, BUILD_SETTINGS, Cluster, Params, log  # noqa: I001

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARNET = str(BIN / "carnet")
PYTHON = sys.executable
CACHE = Path(os.environ.get("BENCH_CACHE", "/var/cache/carnet/bench"))
FHIR_DIR = Path(os.environ.get("BENCH_FHIR_DIR", str(REPO.parent / "shared/data/fhir/synthea")))
FIXED_SECONDS = float(os.environ.get("BENCH_FIXED_SECONDS", "20"))
SATURATION_SECONDS = int(os.environ.get("BENCH_SATURATION_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
RAW_SECONDS = float(os.environ.get("BENCH_RAW_SECONDS", "8"))
IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "3"))

# name, what, method, path template, auth, body template, fixed rate, targets (the goals
# in docs/performance.md; for the writes, the p95 measured before: no worse than that)
OPERATIONS: list[dict[str, Any]] = [
    {
        "name": "chart_json",
        "what": "chart open, JSON API, audited",
        "method": "GET",
        "path": "/api/v1/patients/{patient}/chart/",
        "auth": "token",
        "rate": 100,
        "target": {"saturation_rps": 1000, "p95_ms": 10},
    },
    {
        "name": "chart_html",
        "what": "chart open, HTML page",
        "method": "GET",
        "path": "/p/{slug}/patients/{patient}/",
        "auth": "session",
        "rate": 100,
        "target": {"saturation_rps": 500, "p95_ms": 25},
    },
    {
        "name": "patient_search",
        "what": "patient search (practice-scoped, fuzzy)",
        "method": "GET",
        "path": "/api/v1/patients/?q={search}",
        "auth": "token",
        "rate": 100,
        "target": {"saturation_rps": 1000, "p95_ms": 20},
    },
    {
        "name": "consultation_write",
        "what": "write a consultation",
        "method": "POST",
        "path": "/api/v1/patients/{patient}/encounters/",
        "auth": "token",
        "body": '{"reason": "Toux depuis 3 jours", "subjective": "Pas de fièvre.",'
        ' "assessment": "Rhinopharyngite", "plan": "Traitement symptomatique."}',
        "rate": 50,
        "target": {"p95_ms": 24},
    },
    {
        "name": "invoice_issue",
        "what": "issue an invoice",
        "method": "POST",
        "path": "/api/v1/patients/{patient}/invoices/",
        "auth": "token",
        "body": '{"practitioner": {gp}, "service_date": "{today}", "lines": [{"code": "G"}]}',
        "rate": 50,
        "target": {"p95_ms": 33},
    },
    {
        "name": "appointment_book",
        "what": "book an appointment (API, the database refuses overlaps)",
        "method": "POST",
        "path": "/api/v1/agenda/patients/{patient}/appointments/",
        "auth": "token",
        "body": '{"practitioner": {gp}, "type": {type}, "starts_at": "{slot}", "channel": "phone"}',
        "rate": 50,
        "target": {"p95_ms": 40},
    },
    {
        "name": "today_list",
        "what": "open today's list (the practitioner's day page, audited per patient)",
        "method": "GET",
        "path": "/p/{slug}/aujourdhui/",
        "auth": "session",
        "rate": 100,
        "target": {"p95_ms": 25},
    },
    {
        "name": "fhir_patient_read",
        "what": "FHIR Patient/{id} read",
        "method": "GET",
        "path": "/fhir/r4/Patient/{patient}",
        "auth": "token",
        "rate": 100,
        "target": {"saturation_rps": 1000},
    },
    {
        "name": "fhir_observation_search",
        "what": "FHIR Observation?patient= search",
        "method": "GET",
        "path": "/fhir/r4/Observation?patient={patient}",
        "auth": "token",
        "rate": 100,
        "target": {"saturation_rps": 500},
    },
]


# --- the node --------------------------------------------------------------------------


def carnet_env(cluster: Cluster, root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carnet.settings",
        "DATABASE_URL": cluster.url(APP),
        "DATABASE_OWNER_URL": cluster.url(OWNER),
        "CARNET_VAR_DIR": str(root / "var"),
        "CARNET_GNUPG_HOME": str(root / "var" / "gnupg"),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("CARNET_DATABASE_ROLE", "DATABASE_URL_FILE", "SECRET_KEY", "CARNET_SERVICE"):
        env.pop(name, None)
    return env


def carnet(env: dict[str, str], *args: str, quiet: bool = True) -> str:
    result = subprocess.run(
        [CARNET, *args],
        env=env,
        check=True,
        capture_output=quiet,
        text=True,
    )
    return result.stdout if quiet else ""


def build(params: Params, root: Path) -> dict[str, Any]:
    """Build the node from nothing (a crashed build is redone: built.json comes last)."""
    from carnet import embedded  # the same bootstrap as the embedded database

    cluster = Cluster(root)
    log(f"building the node in {root} ({params})")
    started = time.monotonic()
    cluster.init()
    cluster.start(BUILD_SETTINGS)
    try:
        embedded.bootstrap(cluster.conninfo(dbname="postgres"), DATABASE)
        env = carnet_env(cluster, root)
        carnet(env, "secret_key")  # the node's key, under its var/ (kept when rebuilt)
        carnet(env, "migrate", "--noinput", "-v0")
        carnet(env, "load_reference")
        carnet(env, "load_fees")
        generated = time.monotonic()
        subprocess.run(
            [
                CARNET,
                "generate_volume",
                "--practices",
                str(params.practices),
                "--patients",
                str(params.patients),
                "--entries",
                str(params.entries),
                "--seed",
                str(params.seed),
            ],
            env=env,
            check=True,
        )
        generate_seconds = time.monotonic() - generated
        subprocess.run(
            [PYTHON, str(REPO / "bench/django_tasks.py"), "audit_fill", str(params.audit_events)],
            env={**env, "CARNET_DATABASE_ROLE": "owner", "BENCH_SEED": str(params.seed)},
            check=True,
        )
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            sizes = conn.execute(
                "SELECT pg_database_size(current_database()),"
                " (SELECT count(*) FROM records_patient)"
            ).fetchone()
    finally:
        cluster.stop()
    built = {
        "params": params.__dict__,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - started),
        "generate_volume_seconds": round(generate_seconds),
        "database_bytes": sizes[0] if sizes else None,
    }
    (root / "built.json").write_text(json.dumps(built, indent=2))
    log(f"node built in {built['build_seconds']} s")
    return built


def vacuum(cluster: Cluster) -> float:
    """VACUUM (ANALYZE) the node before it is measured, and how long it took.

    Each run writes (about 260,000 audit events, consultations, invoices): left alone,
    the next run's writes cross autovacuum's thresholds and it vacuums `audit_event`, a
    table of over a million rows, on one of the two cores in the middle of the
    measurement. Vacuumed first, a run starts from the same state as the one before.
    """
    started = time.monotonic()
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return round(time.monotonic() - started, 1)


def maintenance(cluster: Cluster) -> dict[str, Any]:
    """PostgreSQL's own work that competes with the load: the autovacuum workers running
    now, and each table's count of automatic vacuums and analyses so far."""
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        running = [
            row[0]
            for row in conn.execute(
                "SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            )
        ]
        counts = {
            table: vacuums + analyses
            for table, vacuums, analyses in conn.execute(
                "SELECT relname, autovacuum_count, autoanalyze_count FROM pg_stat_user_tables"
            )
        }
    return {"running": running, "counts": counts}


def maintenance_during(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What autovacuum did between two samples: the tables it finished with, and what
    was running at either end."""
    finished = sorted(
        table for table, count in after["counts"].items() if count > before["counts"].get(table, 0)
    )
    running = sorted(set(before["running"]) | set(after["running"]))
    return [*(f"{table} (done)" for table in finished), *running]


def entry_counts(cluster: Cluster) -> dict[str, int]:
    tables = (
        "records_encounter",
        "records_observation",
        "records_prescription",
        "records_problem",
        "records_allergy",
        "records_immunization",
    )
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in (*tables, "records_patient", "practices_practice", "audit_event")
        }
    counts["clinical_entries"] = sum(counts[t] for t in tables)
    return counts


# --- the server ------------------------------------------------------------------------


class Server:
    def __init__(
        self, env: dict[str, str], root: Path, port: int, workers: int | None, worker_class: str
    ) -> None:
        self.url = f"http://127.0.0.1:{port}"
        args = [CARNET, "serve", "--bind", f"127.0.0.1:{port}", "--worker-class", worker_class]
        if workers:
            args += ["--workers", str(workers)]
        self.log = open(root / "server.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            args, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"carnet serve exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("carnet serve did not answer /healthz")

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int], with_reaped_children: bool = False) -> float:
    """CPU time used so far by these processes (and, for a parent, its exited children)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        if with_reaped_children:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_kib(pids: list[int]) -> dict[str, int]:
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_kib": rss, "pss_kib": pss}


class MemorySampler(threading.Thread):
    """Peak memory of the app's and the database's processes while the load runs."""

    def __init__(self, server: Server, postmaster: int) -> None:
        super().__init__(daemon=True)
        self.server, self.postmaster = server, postmaster
        self.peak: dict[str, dict[str, int]] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            app = memory_kib(self.server.pids())
            db = memory_kib([self.postmaster, *children(self.postmaster)])
            for name, value in (("app", app), ("database", db)):
                best = self.peak.get(name)
                if best is None or value["pss_kib"] > best["pss_kib"]:
                    self.peak[name] = value
            total = {k: app[k] + db[k] for k in app}
            if total["pss_kib"] > self.peak.get("total", {"pss_kib": 0})["pss_kib"]:
                self.peak["total"] = total
            time.sleep(0.5)


# --- load ------------------------------------------------------------------------------


# A booking's line names a time no other line of its run names: the fixed-rate run sends
# FIXED_SECONDS x 50 requests, more than there are patients, so its lines go round the
# patients several times with new times; the saturation run gets times after those.
BOOKING_ROUNDS = 3


def targets_file(
    op: dict[str, Any],
    prepared: dict[str, Any],
    directory: Path,
    first_round: int = 0,
    suffix: str = "",
) -> Path:
    today = datetime.now(UTC).astimezone().date().isoformat()
    rounds = BOOKING_ROUNDS if "{slot}" in op.get("body", "") else 1
    lines = []
    for practice in prepared["practices"]:
        count = len(practice["patients"])
        for round_, (index, patient) in (
            (r, pair)
            for r in range(first_round, first_round + rounds)
            for pair in enumerate(practice["patients"])
        ):
            search = practice["searches"][index % len(practice["searches"])]
            path = op["path"].format(
                patient=patient, slug=practice["slug"], search=quote_plus(search)
            )
            if op["auth"] == "token":
                headers = f"Authorization: Bearer {practice['token']}"
            else:
                headers = f"Cookie: sessionid={practice['session']}"
            headers += "|Accept-Language: fr"
            body = op.get("body", "")
            if body:
                headers += "|Content-Type: application/json"
                body = body.replace("{gp}", str(practice["gp_id"])).replace("{today}", today)
                body = body.replace("{type}", str(practice.get("type_id", "")))
                body = body.replace("{slot}", _slot(round_ * count + index))
            lines.append(f"{op['method']}\t{path}\t{headers}\t{body}")
    # Interleave practices, so that consecutive requests are for different practices.
    width = len(prepared["practices"][0]["patients"]) * rounds
    lines = [lines[p * width + i] for i in range(width) for p in range(len(prepared["practices"]))]
    path = directory / f"{op['name']}{suffix}.targets"
    path.write_text("\n".join(lines) + "\n")
    return path


def _slot(index: int) -> str:
    """A distinct booking time per target line (10-minute steps from tomorrow 00:00).
    The fixed-rate run books each of its times once; the saturation run has times of its
    own, but wrk's threads each start at a random line and go round the list, so some
    of its requests meet a time another thread took and are answered 409 with the next
    free times (counted, as every answer is)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(os.environ.get("TIME_ZONE", "Europe/Paris"))
    start = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    # 140 times a day (00:00 to 23:10): a booking never runs past the day's 23:59 close.
    day, step = divmod(index, 140)
    return (start + timedelta(days=1 + day, minutes=10 * step)).isoformat()


def fixed_rate(url: str, targets: Path, rate: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            PYTHON,
            str(REPO / "bench/fixed_rate.py"),
            url,
            str(targets),
            str(rate),
            str(FIXED_SECONDS),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def saturation(url: str, targets: Path, server: Server, postmaster: int) -> dict[str, Any]:
    """wrk at full speed; also the CPU time the app and the database spent per request
    (a figure that does not depend on what else runs on the machine)."""
    app_before = cpu_seconds(server.pids(), with_reaped_children=True)
    db_before = cpu_seconds([postmaster], True) + cpu_seconds(children(postmaster))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{SATURATION_SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(REPO / "bench/wrk/targets.lua"),
            url,
            "--",
            str(targets),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    app_cpu = cpu_seconds(server.pids(), with_reaped_children=True) - app_before
    db_cpu = cpu_seconds([postmaster], True) + cpu_seconds(children(postmaster)) - db_before
    data = json.loads(out.split("WRKJSON", 1)[1].strip().splitlines()[0])
    seconds = data["duration_us"] / 1e6
    # Failed exchanges (connecting, reading, writing, timed out); answers that are not
    # 2xx are counted apart, as non_2xx.
    errors = (
        sum(data[k] for k in data if k.endswith("errors") and k != "status_errors")
        + data["timeouts"]
    )
    return {
        "connections": CONNECTIONS,
        "seconds": round(seconds, 1),
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1),
        "p50_ms": round(data["p50_us"] / 1000, 2),
        "p95_ms": round(data["p95_us"] / 1000, 2),
        "p99_ms": round(data["p99_us"] / 1000, 2),
        "errors": errors,
        "non_2xx": data["status_errors"],
        "app_cpu_ms_per_request": round(app_cpu * 1000 / max(data["requests"], 1), 2),
        "db_cpu_ms_per_request": round(db_cpu * 1000 / max(data["requests"], 1), 2),
    }


# --- raw psycopg: the database's own limit ----------------------------------------------


def _replay(conninfo: str, statements: list[str], seconds: float, queue: Queue) -> None:
    with psycopg.connect(conninfo) as conn:
        done = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with conn.transaction(), conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                    if cursor.description is not None:
                        cursor.fetchall()
            done += 1
    queue.put(done)


def raw_replay(cluster: Cluster, statements: list[str], processes: int = 2) -> dict[str, Any]:
    """The request's reads, as captured, replayed by raw psycopg as the app role (row-level
    security on, the practice set with set_config in each transaction): transactions/s."""
    queue: Queue = Queue()
    workers = [
        Process(target=_replay, args=(cluster.conninfo(APP), statements, RAW_SECONDS, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed:  # its traceback is above; waiting for its count would never end
        raise RuntimeError(f"the raw psycopg replay failed (exit codes {failed})")
    total = sum(queue.get() for _ in workers)
    return {
        "processes": processes,
        "statements": len(statements),
        "tps": round(total / RAW_SECONDS, 1),
    }


# --- one-off measurements ----------------------------------------------------------------


def fhir_import(env: dict[str, str]) -> dict[str, Any]:
    """`carnet import_fhir` of the bundles, IMPORT_RUNS times, each into a new practice
    (an import is idempotent): one run of about a second varies by a tenth from the next,
    so the median is reported, with every run."""
    files = sorted(FHIR_DIR.glob("*.json"))  # main() refused a full run without them
    resources = sum(len(json.loads(f.read_text()).get("entry", [])) for f in files)
    runs = [_one_import(env) for _ in range(IMPORT_RUNS)]
    middle = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {
        "bundles": len(files),
        "resources_in_bundles": resources,
        "seconds": middle["seconds"],
        "resources_per_second": round(resources / middle["seconds"], 1),
        "runs_seconds": [run["seconds"] for run in runs],
        "exit_code": max(run["exit_code"] for run in runs),
        "summary": middle["summary"],
        "command": "carnet import_fhir (process start included)",
    }


def _one_import(env: dict[str, str]) -> dict[str, Any]:
    created = json.loads(
        subprocess.run(
            [PYTHON, str(REPO / "bench/django_tasks.py"), "import_practice"],
            env={**env, "CARNET_DATABASE_ROLE": "owner"},
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            CARNET,
            "import_fhir",
            "--practice",
            created["slug"],
            "--as",
            created["username"],
            "--confirm-not-duplicate",
            str(FHIR_DIR),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return {"seconds": round(seconds, 2), "exit_code": result.returncode, "summary": summary[:400]}


def audit_verify(env: dict[str, str]) -> dict[str, Any]:
    started = time.monotonic()
    result = subprocess.run([CARNET, "audit", "verify"], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    match = re.search(r"(\d+) events in (\d+) chains", result.stdout + result.stderr)
    events = int(match.group(1)) if match else 0
    return {
        "events": events,
        "chains": int(match.group(2)) if match else 0,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds) if seconds else None,
        "intact": result.returncode == 0,
        "output": (result.stdout + result.stderr).strip()[-300:],
    }


def capture(env: dict[str, str], prepared_path: Path, out: Path) -> dict[str, Any]:
    subprocess.run(
        [PYTHON, str(REPO / "bench/django_tasks.py"), "capture", str(prepared_path), str(out)],
        env=env,
        check=True,
    )
    return json.loads(out.read_text())


def machine(cluster: Cluster) -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    from importlib.metadata import version

    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    import timeit

    # How fast one core runs Python right now (about 10 µs on an idle modern core): the
    # machine is shared, and this tells a reader how loaded it was.
    loop = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000
    return {
        "python_sum_range_1000_us": round(loop * 1e6, 1),
        "load_average": os.getloadavg(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": version("django"),
        "gunicorn": version("gunicorn"),
        "psycopg": version("psycopg"),
        "postgresql": pg,
        "postgresql_settings": SERVE_SETTINGS,
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
    }


# --- the run ---------------------------------------------------------------------------


def main() -> int:
    params = Params.from_env()
    # A full run measures the FHIR import: say at once, not after an hour of building,
    # that the bundles are missing (a fresh clone without ../shared beside it).
    if not os.environ.get("BENCH_OPERATIONS") and not sorted(FHIR_DIR.glob("*.json")):
        log(
            f"No FHIR bundles in {FHIR_DIR}: the FHIR import cannot be measured. Set"
            " BENCH_FHIR_DIR to a folder of FHIR R4 bundles (the Synthea ones of"
            " shared/data/fhir/synthea), or BENCH_OPERATIONS for a partial run."
        )
        return 2
    root = CACHE / params.key()
    built_path = root / "built.json"
    if built_path.exists():
        built = json.loads(built_path.read_text())
        log(f"reusing the node in {root} (built {built['built_at']})")
    else:
        built = build(params, root)
    if os.environ.get("BENCH_BUILD_ONLY"):
        return 0

    # An installed Carnet (the container's `pip install`) has its modules compiled; a
    # clone run with PYTHONDONTWRITEBYTECODE (as in containers and CI) would compile them
    # again at every command's start, which the FHIR import's time counts.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(REPO / "services")], check=True)
    cluster = Cluster(root)
    cluster.start(SERVE_SETTINGS)
    server = None
    work = Path(tempfile.mkdtemp(prefix="carnet-bench-"))
    try:
        env = carnet_env(cluster, root)
        from carnet import embedded

        embedded.create_extensions(cluster.conninfo())  # a reused node follows the code
        carnet(env, "migrate", "--noinput", "-v0")
        counts = entry_counts(cluster)
        log(f"{counts['records_patient']:,} patients, {counts['clinical_entries']:,} entries")
        vacuum_seconds = vacuum(cluster)
        log(f"VACUUM (ANALYZE) in {vacuum_seconds} s")
        prepared_path = work / "prepared.json"
        subprocess.run(
            [PYTHON, str(REPO / "bench/django_tasks.py"), "prepare", str(prepared_path)],
            env={**env, "CARNET_DATABASE_ROLE": "owner", "BENCH_SEED": str(params.seed)},
            check=True,
        )
        prepared = json.loads(prepared_path.read_text())
        facts_before = machine(cluster)
        captured = capture(env, prepared_path, work / "captured.json")

        workers = int(os.environ["BENCH_WORKERS"]) if os.environ.get("BENCH_WORKERS") else None
        from node import free_port

        worker_class = os.environ.get("BENCH_WORKER_CLASS", "gthread")
        server = Server(env, root, free_port(), workers, worker_class)
        sampler = MemorySampler(server, cluster.postmaster_pid())
        sampler.start()
        results: dict[str, Any] = {}
        wanted = [n for n in os.environ.get("BENCH_OPERATIONS", "").split(",") if n]
        for op in OPERATIONS:
            if wanted and op["name"] not in wanted:
                continue
            targets = targets_file(op, prepared, work)
            maintenance_before = maintenance(cluster)
            log(f"{op['name']}: fixed rate {op['rate']}/s for {FIXED_SECONDS:.0f} s")
            fixed = fixed_rate(server.url, targets, op["rate"])
            log(f"{op['name']}: saturation ({CONNECTIONS} connections, {SATURATION_SECONDS} s)")
            if "{slot}" in op.get("body", ""):  # times the fixed-rate run did not book
                targets = targets_file(op, prepared, work, BOOKING_ROUNDS, ".saturation")
            saturated = saturation(server.url, targets, server, cluster.postmaster_pid())
            statements = captured.get(op["name"], {}).get("reads", [])
            raw = raw_replay(cluster, statements) if statements else None
            result = {
                "what": op["what"],
                "request": f"{op['method']} {op['path']}",
                "queries_per_request": captured.get(op["name"], {}).get("queries"),
                "fixed_rate": fixed,
                "saturation": saturated,
                "raw_psycopg": raw,
                "target": op["target"],
                "autovacuum": maintenance_during(maintenance_before, maintenance(cluster)),
            }
            if raw and saturated["rps"]:
                result["app_to_database_ratio"] = round(saturated["rps"] / raw["tps"], 3)
            results[op["name"]] = result
            log(
                f"{op['name']}: p95 {fixed['p95_ms']} ms at {op['rate']}/s,"
                f" {saturated['rps']} req/s saturated"
                + (f", raw psycopg {raw['tps']} tx/s" if raw else "")
            )
        sampler.running = False
        sampler.join()
        server.stop()
        server = None

        if wanted:  # a partial run, for development: no report
            log(json.dumps({**results, "memory_under_load_kib": sampler.peak}, indent=1))
            return 0
        log("FHIR import")
        results_import = fhir_import(env)
        log(f"FHIR import: {results_import}")
        log("audit verify")
        verify = audit_verify(env)
        log(f"audit verify: {verify['events']:,} events in {verify['seconds']} s")

        report = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": bench_command(params),
            "params": params.__dict__,
            "node": {**built, "counts": entry_counts(cluster)},
            "machine": {
                **facts_before,
                "after_run": machine(cluster),
                "vacuum_before_run_seconds": vacuum_seconds,
            },
            "server": {
                "command": "carnet serve (gunicorn, production settings: DEBUG off, audit on)",
                "workers": workers or (os.cpu_count() or 1) * 2 + 1,
                "worker_class": worker_class,
            },
            "method": {
                "fixed_rate": f"bench/fixed_rate.py, {FIXED_SECONDS:.0f} s per operation,"
                " latency from each request's due time",
                "saturation": f"wrk -t2 -c{CONNECTIONS} -d{SATURATION_SECONDS}s",
                "raw_psycopg": f"the request's reads replayed in one transaction, 2 processes,"
                f" {RAW_SECONDS:.0f} s",
            },
            "operations": results,
            "memory_under_load_kib": sampler.peak,
            "fhir_import": results_import,
            "audit_verify": verify,
        }
        (REPO / "bench/report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        log("wrote bench/report.json")
        if os.environ.get("BENCH_DOCS", "1") != "0":
            from report import write_docs

            write_docs(report, REPO / "docs/performance.md")
            log("updated docs/performance.md")
        return 0
    finally:
        if server is not None:
            server.stop()
        cluster.stop()


def bench_command(params: Params) -> str:
    parts = []
    defaults = Params(1_000_000, 20_000_000, 50, 1_000_000)
    for name, env in (
        ("patients", "BENCH_PATIENTS"),
        ("entries", "BENCH_ENTRIES"),
        ("practices", "BENCH_PRACTICES"),
        ("audit_events", "BENCH_AUDIT_EVENTS"),
    ):
        if getattr(params, name) != getattr(defaults, name):
            parts.append(f"{env}={getattr(params, name)}")
    for env, default in (
        ("BENCH_FIXED_SECONDS", "20"),
        ("BENCH_SATURATION_SECONDS", "15"),
        ("BENCH_RAW_SECONDS", "8"),
        ("BENCH_CONNECTIONS", "16"),
        ("BENCH_WORKERS", ""),
    ):
        value = os.environ.get(env, default)
        if value != default:
            parts.append(f"{env}={value}")
    return " ".join([*parts, "make bench"])


if __name__ == "__main__":
    sys.exit(main())
