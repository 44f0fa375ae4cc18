"""Benchmark tasks that need Carnet's code, run as the database owner role:

    python bench/django_tasks.py prepare OUT.json [SAMPLE_PER_PRACTICE]
    python bench/django_tasks.py audit_fill TARGET_EVENTS
    python bench/django_tasks.py import_practice

``prepare`` gives each generated practice's GP an API token and a browser session that
passed the second factor (as after a real login with a TOTP code), and samples patient
ids and search terms per practice: the load generator only ever asks a practice for its
own patients. ``audit_fill`` tops the audit trail up to TARGET_EVENTS with valid chained
events (same canonical hash as Carnet's, written with COPY), so ``carnet audit verify``
is timed on a trail of that size. ``import_practice`` creates an empty practice with one
GP for the FHIR import measurement (a new one each run: an import is idempotent).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
os.environ.setdefault("CARNET_DATABASE_ROLE", "owner")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from psycopg.types.json import Json  # noqa: E402

from carnet_demo.records_demo import FAMILY_NAMES  # noqa: E402
from core import tenancy  # noqa: E402
from core.accounts import services as accounts  # noqa: E402
from core.accounts.middleware import LAST_SEEN  # noqa: E402
from core.accounts.models import Membership, Person  # noqa: E402
from core.audit.chain import GENESIS, event_hash  # noqa: E402
from core.audit.models import AuditEvent  # noqa: E402
from core.practices.models import Practice  # noqa: E402


def _typo(name: str, rng: random.Random) -> str:
    """One letter dropped or doubled: what a hurried search box gets."""
    if len(name) < 5:
        return name
    at = rng.randrange(1, len(name) - 1)
    return name[:at] + name[at + 1 :] if rng.random() < 0.5 else name[:at] + name[at] + name[at:]


def _session_for(person: Person) -> str:
    from importlib import import_module

    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name="bench", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(person.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = person.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[LAST_SEEN] = time.time()
    store.create()
    return str(store.session_key)


def prepare(out: Path, sample: int) -> None:
    seed = int(os.environ.get("BENCH_SEED", "1"))
    rng = random.Random(f"bench:{seed}")  # noqa: S311 - load pattern, not a secret
    practices = []
    for practice in Practice.objects.filter(slug__startswith=f"volume-{seed}-").order_by("pk"):
        gp = Person.objects.get(username=f"gp.{practice.slug}")
        with tenancy.practice_context(practice.pk, gp.pk):
            _token, plaintext = accounts.api_token_create(
                person=gp, practice=practice, name="benchmark"
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM records_patient WHERE practice_id = %s"
                    " ORDER BY md5(id::text || %s) LIMIT %s",
                    [practice.pk, str(seed), sample],
                )
                patients = [row[0] for row in cursor.fetchall()]
                cursor.execute(
                    "SELECT given_names FROM records_patient WHERE id = ANY(%s)", [patients]
                )
                given = [row[0].split()[0] for row in cursor.fetchall()]
        searches = [
            f"{_typo(rng.choice(FAMILY_NAMES), rng)} {rng.choice(given)}" for _ in range(sample)
        ]
        type_id = _agenda_for(practice, gp, patients[:30])
        practices.append(
            {
                "slug": practice.slug,
                "id": practice.pk,
                "gp_id": gp.pk,
                "type_id": type_id,
                "token": plaintext,
                "session": _session_for(gp),
                "patients": patients,
                "searches": searches,
            }
        )
    out.write_text(json.dumps({"practices": practices}, ensure_ascii=False))
    print(f"{len(practices)} practices prepared")


def _agenda_for(practice: Practice, gp: Person, today_patients: list[int]) -> int:
    """The GP's agenda: open every day around the clock (the booking benchmark books
    times over the coming days), and a full day today (30 appointments, a third of the
    patients waiting) for today's list. Returns the appointment type to book."""
    from datetime import datetime, timedelta
    from datetime import time as day_time

    from agenda.models import Appointment, AppointmentType, OpeningHours, Site, Status
    from agenda.selectors.slots import local_zone

    # This script runs as the owner role, which row-level security does not filter:
    # every query names its practice.
    with tenancy.practice_context(practice.pk, gp.pk):
        kind = AppointmentType.objects.filter(practice=practice, name="Consultation").first()
        if kind is None:
            site = Site.objects.create(practice=practice, name="Cabinet")
            kind = AppointmentType.objects.create(
                practice=practice, name="Consultation", minutes=10
            )
            OpeningHours.objects.bulk_create(
                OpeningHours(
                    practice=practice,
                    practitioner=gp,
                    site=site,
                    weekday=weekday,
                    starts=day_time(0),
                    ends=day_time(23, 59),
                )
                for weekday in range(7)
            )
        site = Site.objects.filter(practice=practice).order_by("pk").first()
        start = datetime.combine(timezone.localdate(), day_time(8), tzinfo=local_zone())
        # A reused node keeps what an earlier run booked, and its "today" may be another
        # day: every run starts from today's 30 appointments and empty days after.
        Appointment.objects.filter(
            practice=practice, practitioner=gp, starts_at__gte=start - timedelta(hours=8)
        ).delete()
        Appointment.objects.bulk_create(
            Appointment(
                practice=practice,
                practitioner=gp,
                patient_id=patient,
                type=kind,
                site=site,
                starts_at=start + timedelta(minutes=15 * index),
                ends_at=start + timedelta(minutes=15 * index + 10),
                status=Status.ARRIVED if index % 3 == 0 else Status.BOOKED,
                arrived_at=timezone.now() if index % 3 == 0 else None,
                created_by=gp,
            )
            for index, patient in enumerate(today_patients)
        )
    return kind.pk


def booking_slot(index: int, days_ahead: int = 1) -> str:
    """A distinct time for each booking request of the benchmark (10-minute steps from
    midnight, ``days_ahead`` days from today)."""
    from datetime import datetime, timedelta
    from datetime import time as day_time

    from agenda.selectors.slots import local_zone

    start = datetime.combine(
        timezone.localdate() + timedelta(days=days_ahead), day_time(0), tzinfo=local_zone()
    )
    day, step = divmod(index, 140)  # never past the day's 23:59 close
    return (start + timedelta(days=day, minutes=10 * step)).isoformat()


def import_practice() -> None:
    """A new empty practice with one GP; prints its slug and the GP's username."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    with transaction.atomic():
        practice = Practice.objects.create(slug=f"bench-import-{stamp}", name=f"Import {stamp}")
        gp = Person.objects.create_user(
            username=f"gp.bench-import-{stamp}",
            full_name="Dr Import Bench",
            profession="gp",
            rpps="10000000008",
        )
        Membership.objects.create(practice=practice, person=gp, role="practitioner")
    print(json.dumps({"slug": practice.slug, "username": gp.username}))


_COLUMNS = [str(f.column) for f in AuditEvent._meta.concrete_fields if not f.primary_key]
ACTIONS = ("patient.read", "patient.search", "patient.write", "invoice.issue")


def audit_fill(target: int) -> None:
    """Append valid events to the practices' chains until the trail holds ``target``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_event")
        (present,) = cursor.fetchone()
    missing = target - present
    if missing <= 0:
        print(f"audit trail: {present:,} events, nothing to add")
        return
    rng = random.Random("bench-audit")  # noqa: S311 - synthetic trail
    practices = list(Practice.objects.values_list("pk", flat=True)) or [0]
    per_chain = missing // len(practices) + 1
    started = time.monotonic()
    written = 0
    raw = connection.cursor().connection
    for practice_id in practices:
        if written >= missing:
            break
        count = min(per_chain, missing - written)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO audit_chain (chain, seq, hash) VALUES (%s, 0, %s)"
                    " ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain"
                    " RETURNING seq, hash",
                    [practice_id, GENESIS],
                )
                seq, head = cursor.fetchone()
                cursor.execute(
                    "SELECT person_id FROM accounts_membership WHERE practice_id = %s",
                    [practice_id],
                )
                staff = [row[0] for row in cursor.fetchall()] or [None]
            now = timezone.now()
            statement = f"COPY audit_event ({', '.join(_COLUMNS)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for number in range(count):
                    fields: dict[str, Any] = {
                        "chain": practice_id,
                        "seq": seq + 1,
                        "prev_hash": head,
                        "occurred_at": now,
                        "practice_id": practice_id,
                        "actor_id": rng.choice(staff),
                        "actor_label": "bench",
                        "action": ACTIONS[number % len(ACTIONS)],
                        "outcome": "success",
                        "patient_id": None,
                        "category": "clinical",
                        "purpose": "care",
                        "reason": "",
                        "target": "",
                        "ip": "127.0.0.1",
                        "user_agent": "carnet-bench",
                        "request_id": f"bench{seq + 1}",
                        "channel": "api",
                        "details": {"view": "chart", "hidden_entries": 0},
                    }
                    fields["hash"] = event_hash(fields)
                    seq, head = fields["seq"], fields["hash"]
                    copy.write_row(
                        [Json(fields[c]) if c == "details" else fields[c] for c in _COLUMNS]
                    )
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE audit_chain SET seq = %s, hash = %s WHERE chain = %s",
                    [seq, head, practice_id],
                )
        written += count
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_event")
    print(f"audit trail: {written:,} events added in {time.monotonic() - started:.0f} s")


def capture(prepared_path: Path, out: Path) -> None:
    """Run each benchmarked request once in-process, as the app role, and keep its SQL:
    the number of queries, and the reads (for the raw psycopg replay)."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import OPERATIONS

    practice = json.loads(prepared_path.read_text())["practices"][0]
    today = timezone.localdate().isoformat()
    result: dict[str, Any] = {}
    for op in OPERATIONS:
        client = Client()
        headers: dict[str, str] = {"HTTP_HOST": "127.0.0.1", "HTTP_ACCEPT_LANGUAGE": "fr"}
        if op["auth"] == "token":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {practice['token']}"
        else:
            client.cookies["sessionid"] = practice["session"]
        captured: Any = None
        for patient in practice["patients"][:2]:  # the second request is the one kept
            path = op["path"].format(
                patient=patient,
                slug=practice["slug"],
                search=quote_plus(practice["searches"][0]),
            )
            body = op.get("body", "")
            body = body.replace("{gp}", str(practice["gp_id"])).replace("{today}", today)
            body = body.replace("{type}", str(practice["type_id"]))
            # Far from the times the load books, so the capture never meets them.
            body = body.replace("{slot}", booking_slot(practice["patients"].index(patient), 400))
            with CaptureQueriesContext(connection) as captured:  # noqa: F811
                if op["method"] == "GET":
                    response = client.get(path, **headers)
                else:
                    response = client.post(
                        path, data=body, content_type="application/json", **headers
                    )
            if response.status_code >= 400:
                raise SystemExit(f"{op['name']}: {response.status_code} {response.content[:300]!r}")
        assert captured is not None
        statements = [q["sql"] for q in captured.captured_queries]
        result[op["name"]] = {
            "queries": len(statements),
            "reads": [s for s in statements if s.lstrip().upper().startswith("SELECT")],
            "all": statements,
        }
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(", ".join(f"{name}: {r['queries']} queries" for name, r in result.items()))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "prepare":
        prepare(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    elif command == "audit_fill":
        audit_fill(int(sys.argv[2]))
    elif command == "capture":
        capture(Path(sys.argv[2]), Path(sys.argv[3]))
    elif command == "import_practice":
        import_practice()
    else:
        raise SystemExit(f"unknown task {command}")
