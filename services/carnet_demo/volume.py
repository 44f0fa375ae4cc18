"""Benchmark volume: many practices, patients and clinical entries, written with COPY.

``generate`` writes practices (each with a GP and a secretary, with their memberships),
patients with valid, unique NIRs and French identities, their care team (the GP), and
clinical entries spread over the patients: consultations with vital signs, prescriptions
and their drug lines, problems, allergies, vaccinations and lab results. The texts come
from the demo catalogues (``carnet_demo.records_demo``), so the data looks like the demo practice's.

This is not a way to enter patient data: it bypasses the services, the access policy and
the audit trail (no audit event is written), and only exists to fill a benchmark
database. It uses PostgreSQL ``COPY`` (psycopg 3), never one ORM save per row, and
commits batch by batch, reporting rows per second. COPY fires the triggers, so
``Patient.search_name`` is filled as for any insert.

It must run as the role that owns the tables (row-level security does not apply to it):
``CARNET_DATABASE_ROLE=owner carnet generate_volume ...``. If the session may switch to
the owner role, ``as_table_owner`` does it for the duration of the run.

What is counted as an *entry* is one row of a clinical-entry table (consultation,
observation, prescription, problem, allergy, vaccination): ``--entries`` is met exactly.
Drug lines of prescriptions are extra rows, not entries.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from carnet_demo.records_demo import (
    ALLERGIES,
    BIRTH_PLACES,
    CONDITIONS,
    CREATININE,
    DTCAP_BOOSTER,
    DTCAP_BOOSTER_ALT,
    DTCAP_CHILD,
    EPISODES,
    FAMILY_NAMES,
    FEMALE_NAMES,
    FLU,
    FLU_ALT,
    HBA1C,
    HEXAVALENT,
    HPV,
    LDL,
    MALE_NAMES,
    MENINGOCOCCAL,
    MMR,
    PNEUMOCOCCAL,
    SHINGLES,
    STREETS,
    Condition,
    Medicine,
    Vaccine,
    demo_drugs,
    growth_median,
)
from core.accounts.validators import luhn_ok
from records import nir
from records.services.consultations import VITALS

# Every volume account has this password (hashed once): the accounts are for load tests.
VOLUME_PASSWORD = "carnet-volume-2026"  # noqa: S105 - published benchmark password
BATCH_PATIENTS = 5_000
HISTORY_DAYS = 10 * 365  # entries are spread over the last ten years

# Where the practices are: real towns and their postal codes.
TOWNS = [
    ("69100", "Villeurbanne"),
    ("75011", "Paris"),
    ("13005", "Marseille"),
    ("31000", "Toulouse"),
    ("06000", "Nice"),
    ("44000", "Nantes"),
    ("67000", "Strasbourg"),
    ("34000", "Montpellier"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("35000", "Rennes"),
    ("51100", "Reims"),
    ("42000", "Saint-Étienne"),
    ("83000", "Toulon"),
    ("38000", "Grenoble"),
    ("21000", "Dijon"),
    ("49000", "Angers"),
    ("30000", "Nîmes"),
    ("63000", "Clermont-Ferrand"),
    ("72000", "Le Mans"),
    ("29200", "Brest"),
    ("37000", "Tours"),
    ("80000", "Amiens"),
    ("87000", "Limoges"),
    ("74000", "Annecy"),
    ("66000", "Perpignan"),
    ("57000", "Metz"),
    ("25000", "Besançon"),
    ("45000", "Orléans"),
    ("76000", "Rouen"),
    ("14000", "Caen"),
    ("54000", "Nancy"),
    ("64000", "Pau"),
    ("17000", "La Rochelle"),
    ("20000", "Ajaccio"),
    ("97400", "Saint-Denis"),
]
# Birth places: (INSEE code of the commune, or 99 + country, name).
MORE_BIRTH_PLACES = [
    ("44109", "Nantes"),
    ("33063", "Bordeaux"),
    ("06088", "Nice"),
    ("34172", "Montpellier"),
    ("35238", "Rennes"),
    ("51454", "Reims"),
    ("21231", "Dijon"),
    ("63113", "Clermont-Ferrand"),
    ("29019", "Brest"),
    ("37261", "Tours"),
    ("80021", "Amiens"),
    ("87085", "Limoges"),
    ("57463", "Metz"),
    ("76540", "Rouen"),
    ("14118", "Caen"),
    ("54395", "Nancy"),
    ("99352", "Algérie"),
    ("99351", "Tunisie"),
    ("99127", "Italie"),
    ("99109", "Allemagne"),
]
PLACES = BIRTH_PLACES + MORE_BIRTH_PLACES


class NotOwner(Exception):
    """The connection is not the tables' owner and may not become it."""


@dataclass(frozen=True)
class VolumeSpec:
    practices: int
    patients: int
    entries: int
    seed: int = 1

    @property
    def slug_prefix(self) -> str:
        return f"volume-{self.seed}-"


@dataclass
class VolumeResult:
    practices: int = 0
    persons: int = 0
    patients: int = 0
    entries: int = 0
    other_rows: int = 0  # memberships, care team, drug lines...
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.practices + self.persons + self.patients + self.entries + self.other_rows

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# The role ---------------------------------------------------------------------------


@contextmanager
def as_table_owner() -> Iterator[None]:
    """Run the block as the owner of the records tables (row-level security off).

    Nothing to do if the connection already is the owner (or a superuser); switch with
    SET ROLE if the session may; otherwise refuse with what to do.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, t.tableowner, r.rolsuper OR r.rolbypassrls,"
            " pg_has_role(session_user, t.tableowner, 'MEMBER')"
            " FROM pg_tables t JOIN pg_roles r ON r.rolname = current_user"
            " WHERE t.schemaname = current_schema() AND t.tablename = 'records_patient'"
        )
        row = cursor.fetchone()
    if row is None:
        raise NotOwner("The records tables do not exist: run `carnet migrate` first.")
    user, owner, bypasses_rls, may_switch = row
    if user == owner or bypasses_rls:
        yield
        return
    if not may_switch:
        raise NotOwner(
            f"The database role {user!r} is under row-level security and cannot become"
            f" {owner!r}. Run the command as the owner role: CARNET_DATABASE_ROLE=owner"
            " (embedded database) or with DATABASE_OWNER_URL set."
        )
    raw = connection.cursor().connection
    raw.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner)))
    try:
        yield
    finally:
        raw.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(user)))


# COPY helpers -------------------------------------------------------------------------


ENTRY_COLUMNS = (
    "practice_id",
    "patient_id",
    "author_id",
    "recorded_at",
    "updated_at",
    "version",
    "status",
    "error_reason",
    "sensitivity",
)
# The columns each COPY writes, in the order of the rows the Writer yields.
COLUMNS: dict[str, tuple[str, ...]] = {
    "practices_practice": (
        "id",
        "slug",
        "name",
        "address",
        "postal_code",
        "city",
        "phone",
        "finess",
        "country",
        "created_at",
        "is_active",
    ),
    "practices_cooperativemembership": ("practice_id", "plan", "status", "shares", "joined_on"),
    "accounts_person": (
        "id",
        "password",
        "username",
        "full_name",
        "email",
        "profession",
        "rpps",
        "is_active",
        "is_cooperative_admin",
        "is_node_admin",
        "date_joined",
        "failed_logins",
        "preferred_language",
    ),
    "accounts_membership": ("practice_id", "person_id", "role", "is_active", "created_at"),
    "records_patient": (
        "id",
        "practice_id",
        "birth_name",
        "used_name",
        "given_names",
        "sex",
        "birth_date",
        "birth_place",
        "nir",
        "address",
        "postal_code",
        "city",
        "phone",
        "email",
        "gp_id",
        "created_at",
        "updated_at",
        "advance_directives",
        "advance_directives_location",
        "trusted_person_name",
        "trusted_person_phone",
        "trusted_person_relation",
        "version",
        "search_name",  # overwritten by the trigger
    ),
    "records_careteammember": ("practice_id", "patient_id", "person_id", "since"),
    "records_encounter": (
        "id",
        *ENTRY_COLUMNS,
        "occurred_at",
        "kind",
        "reason",
        "subjective",
        "objective",
        "assessment",
        "plan",
        "documentation_seconds",
    ),
    "records_prescription": (
        "id",
        *ENTRY_COLUMNS,
        "encounter_id",
        "prescribed_on",
        "renewals",
        "note",
    ),
    "records_prescriptionitem": (
        "practice_id",
        "prescription_id",
        "drug_id",
        "drug_label",
        "posology",
        "duration_days",
        "long_term_condition",
        "substitutable",
        "position",
    ),
    "records_observation": (
        *ENTRY_COLUMNS,
        "encounter_id",
        "effective_at",
        "code",
        "label",
        "value",
        "value_text",
        "unit",
        "reviewed",
    ),
    "records_problem": (
        *ENTRY_COLUMNS,
        "code",
        "label",
        "clinical_status",
        "is_history",
        "long_term_condition",
        "onset",
        "resolved_on",
    ),
    "records_allergy": (*ENTRY_COLUMNS, "substance", "kind", "reaction", "severity"),
    "records_immunization": (
        *ENTRY_COLUMNS,
        "vaccinated_on",
        "vaccine",
        "drug_id",
        "lot_number",
        "dose",
    ),
}


def _copy(table: str, rows: Iterable[Sequence[Any]]) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS[table])
    )
    count = 0
    raw = connection.cursor().connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _new_ids(table: str, count: int) -> list[int]:
    """Take ``count`` ids from the table's sequence (safe if others insert meanwhile)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [row[0] for row in cursor.fetchall()]


# Practices and staff --------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeRow:
    id: int
    gp_id: int
    town: tuple[str, str]


def _write_practices(spec: VolumeSpec, now: datetime, result: VolumeResult) -> list[PracticeRow]:
    rng = random.Random(f"volume-practices:{spec.seed}")  # noqa: S311 - benchmark data
    practice_ids = _new_ids("practices_practice", spec.practices)
    person_ids = _new_ids("accounts_person", 2 * spec.practices)
    password = make_password(VOLUME_PASSWORD)
    practices, people, memberships, cooperative = [], [], [], []
    rows: list[PracticeRow] = []
    for index, practice_id in enumerate(practice_ids):
        town = TOWNS[index % len(TOWNS)]
        slug = f"{spec.slug_prefix}{index + 1:04d}"
        name = f"Maison de santé {rng.choice(FAMILY_NAMES)} ({town[1]})"
        address = f"{rng.randrange(1, 120)} {rng.choice(STREETS)}"
        practices.append((practice_id, slug, name, address, *town, "", "", "FR", now, True))
        cooperative.append((practice_id, "group", "active", 1, now.date()))
        gp_id, secretary_id = person_ids[2 * index], person_ids[2 * index + 1]
        gp_name = f"Dr {rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(FAMILY_NAMES)}"
        secretary_name = f"{rng.choice(FEMALE_NAMES)} {rng.choice(FAMILY_NAMES)}"
        for person_id, username, full_name, profession, rpps in (
            (gp_id, f"gp.{slug}", gp_name, "gp", _rpps(rng)),
            (secretary_id, f"secretary.{slug}", secretary_name, "", ""),
        ):
            people.append(
                (
                    person_id,
                    password,
                    username,
                    full_name,
                    "",  # e-mail
                    profession,
                    rpps,
                    True,  # active
                    False,  # cooperative admin
                    False,  # node admin
                    now,
                    0,  # failed logins
                    "",  # preferred language
                )
            )
        memberships.append((practice_id, gp_id, "practitioner", True, now))
        memberships.append((practice_id, secretary_id, "secretary", True, now))
        rows.append(PracticeRow(practice_id, gp_id, town))
    result.practices += _copy(
        "practices_practice",
        practices,
    )
    result.other_rows += _copy(
        "practices_cooperativemembership",
        cooperative,
    )
    result.persons += _copy(
        "accounts_person",
        people,
    )
    result.other_rows += _copy(
        "accounts_membership",
        memberships,
    )
    return rows


def _rpps(rng: random.Random) -> str:
    """An 11-digit RPPS number with a valid Luhn check digit."""
    body = "10" + "".join(str(rng.randrange(10)) for _ in range(8))
    return next(body + check for check in "0123456789" if luhn_ok(body + check))


# Patients ---------------------------------------------------------------------------


class NirAllocator:
    """Valid NIRs, unique for the run: the order number (3 digits) is counted per sex,
    birth month and birth place, so two patients never get the same one."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: dict[tuple[str, int, int, str], int] = {}

    def allocate(self, sex: str, birth: date) -> tuple[str, str]:
        sex_digit = "2" if sex == "F" else "1"
        while True:
            code, name = self.rng.choice(PLACES)
            key = (sex_digit, birth.year % 100, birth.month, code)
            order = self.used.get(key, 0) + 1
            if order <= 999:
                self.used[key] = order
                return nir.make(sex_digit, birth, code, order), name


def _birth_date(rng: random.Random, today: date) -> date:
    """An age from 0 to 100, with fewer people after 60, as in the French population."""
    while True:
        age = rng.uniform(0, 100)
        if age < 60 or rng.random() < (100 - age) / 40:
            return today - timedelta(days=int(age * 365.25))


@dataclass
class Visit:
    """A consultation of the batch: its id, when, what was written, what it produced."""

    id: int
    at: datetime
    note: Note
    vitals: int
    prescription_id: int | None = None


@dataclass
class PatientPlan:
    """One patient and the shape of their record (the rest is drawn when written)."""

    id: int
    practice: PracticeRow
    sex: str
    birth: date
    budget: int  # entries
    age: int = 0  # in years, today
    conditions: list[Condition] = field(default_factory=list)  # its problems
    allergies: int = 0
    immunizations: int = 0
    labs: int = 0
    visits: list[Visit] = field(default_factory=list)


@dataclass(frozen=True)
class Note:
    """A consultation note, and who it fits."""

    reason: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    medicines: tuple[Medicine, ...] = ()
    sensitivity: str = ""
    min_age: float = 0
    max_age: float = 120
    sexes: str = "FM"


def _episode_notes() -> list[Note]:
    """The demo's acute episodes, one note per way the patient tells it."""
    notes = []
    for e in EPISODES:
        # Children get the children's drugs (under 12), as in the demo histories.
        ages = [(e.min_age, e.max_age, e.medicines)]
        if e.child_medicines:
            ages = [(e.min_age, min(e.max_age, 12), e.child_medicines)]
            ages += [(12, e.max_age, e.medicines)] if e.max_age > 12 else []
        notes += [
            Note(e.reason, s, e.objective, e.assessment, e.plan, drugs, "", low, high, e.sexes)
            for low, high, drugs in ages
            for s in e.subjective
        ]
    return notes


def _follow_up_note(condition: Condition) -> Note:
    return Note(
        f"Suivi {condition.short}, renouvellement d'ordonnance",
        condition.subjective[0] if condition.subjective else "Va bien.",
        condition.examination or "Examen clinique sans particularité.",
        f"{condition.assessment or condition.label}.",
        "Renouvellement du traitement pour 3 mois. Revoir dans 3 mois.",
        condition.treatments[0],
        condition.sensitivity,
    )


EPISODE_NOTES = _episode_notes()
# Episodes that fit a patient by sex and age in years: (all of them, those with drugs).
EPISODES_FOR = {
    (sex, age): (
        fitting := [
            n for n in EPISODE_NOTES if n.min_age <= age + 0.5 <= n.max_age and sex in n.sexes
        ],
        [note for note in fitting if note.medicines],
    )
    for sex in "FM"
    for age in range(101)
}
# The follow-up of each treated, ongoing condition: a renewal with its drugs.
FOLLOW_UPS = {
    condition: _follow_up_note(condition)
    for condition in CONDITIONS
    if condition.treatments and not condition.past
}


def _vaccines_for(age: int) -> tuple[Vaccine, ...]:
    """Vaccines of the French schedule a patient of this age has had lately."""
    if age < 2:
        return (HEXAVALENT, PNEUMOCOCCAL, MENINGOCOCCAL, MMR)
    if age < 18:
        return (DTCAP_CHILD, HPV, MMR) if age >= 11 else (DTCAP_CHILD, MMR)
    if age < 65:
        return (DTCAP_BOOSTER, DTCAP_BOOSTER_ALT, FLU)
    return (DTCAP_BOOSTER, FLU, FLU_ALT, SHINGLES, PNEUMOCOCCAL)


VACCINES_FOR = {age: _vaccines_for(age) for age in range(101)}
CHILD_VITALS = ("weight", "height", "temperature", "heart_rate")
ADULT_VITALS = ("weight", "systolic", "diastolic", "heart_rate", "temperature", "height", "spo2")
LABS = ((HBA1C, (5.4, 9.0, 1)), (LDL, (0.7, 2.1, 2)), (CREATININE, (50.0, 130.0, 0)))
# Conditions a patient may have, by sex and age in years: (conditions, their chances).
ELIGIBLE = {
    (sex, age): (
        [c for c in CONDITIONS if c.chance(age, sex) > 0],
        [c.chance(age, sex) for c in CONDITIONS if c.chance(age, sex) > 0],
    )
    for sex in "FM"
    for age in range(101)
}


def _shape(plan: PatientPlan, writer: Writer) -> None:
    """Split the patient's entry budget exactly: a few problems, allergies, vaccinations,
    then consultations (with their vital signs and prescriptions) and lab results."""
    rng = writer.rng
    plan.age = min(int((writer.today - plan.birth).days / 365.25), 100)
    left = plan.budget
    if left:
        eligible, chances = ELIGIBLE[(plan.sex, plan.age)]
        wanted = rng.choice((0, 1, 1, 2, 2, 3))
        drawn = rng.choices(eligible, chances, k=min(left, wanted)) if eligible else []
        plan.conditions = list(dict.fromkeys(drawn))
    left -= len(plan.conditions)
    plan.allergies = min(left, 1 if rng.random() < 0.12 else 0)
    left -= plan.allergies
    plan.immunizations = min(left, rng.choice((0, 1, 1, 2, 3)))
    left -= plan.immunizations
    episodes, episodes_with_drugs = EPISODES_FOR[(plan.sex, plan.age)]
    follow_ups = [FOLLOW_UPS[c] for c in plan.conditions if c in FOLLOW_UPS]
    while left > 0:
        if left >= 2 and rng.random() < 0.1:
            labs = min(left, rng.randint(1, 3))
            plan.labs += labs
            left -= labs
            continue
        vitals = min(left - 1, rng.randint(1, 4))
        prescribed = left - 1 - vitals > 0 and rng.random() < 0.55
        if follow_ups and rng.random() < 0.5:
            note = rng.choice(follow_ups)  # all of them renew a treatment
        elif prescribed and episodes_with_drugs:
            note = rng.choice(episodes_with_drugs)
        else:
            note = rng.choice(episodes)
            prescribed = False
        visit = Visit(0, writer.moment(plan), note, vitals, -1 if prescribed else None)
        plan.visits.append(visit)
        left -= 1 + vitals + (1 if prescribed else 0)


def _budgets(spec: VolumeSpec) -> Iterator[int]:
    """Entries per patient, summing exactly to ``spec.entries``, some patients with much
    longer records than others (weights drawn twice from the same seeded source)."""

    def weights() -> Iterator[float]:
        rng = random.Random(f"volume-weights:{spec.seed}")  # noqa: S311 - benchmark data
        for _ in range(spec.patients):
            yield 0.2 + rng.random() ** 3 * 5

    total = sum(weights())
    given, cumulative = 0, 0.0
    for index, weight in enumerate(weights()):
        cumulative += weight
        last = index == spec.patients - 1
        target = spec.entries if last else min(int(spec.entries * cumulative / total), spec.entries)
        yield target - given
        given = target


# Writing a batch ----------------------------------------------------------------------


class Writer:
    """Draws the content of a batch of patients and writes it, one COPY per table."""

    def __init__(self, *, seed: int, today: date, known_drugs: frozenset[str]) -> None:
        self.rng = random.Random(f"volume-content:{seed}")  # noqa: S311 - benchmark data
        self.today = today
        self.now = timezone.now()
        self.zone = timezone.get_default_timezone()
        self.known_drugs = known_drugs
        self.nirs = NirAllocator(self.rng)

    def moment(self, plan: PatientPlan) -> datetime:
        """A time of day in the last ten years, after the patient's birth."""
        days = max(min(HISTORY_DAYS, (self.today - plan.birth).days), 1)
        day = self.today - timedelta(days=self.rng.randrange(days))
        at = time(self.rng.randrange(8, 19), self.rng.choice((0, 15, 30, 45)))
        return datetime.combine(day, at, tzinfo=self.zone)

    def entry(self, plan: PatientPlan, at: datetime, sensitivity: str = "") -> tuple[Any, ...]:
        """The columns every clinical entry has (ENTRY_COLUMNS)."""
        practice = plan.practice
        return (practice.id, plan.id, practice.gp_id, at, at, 1, "active", "", sensitivity)

    def write(self, plans: list[PatientPlan], result: VolumeResult) -> None:
        visits = [visit for plan in plans for visit in plan.visits]
        for visit, visit_id in zip(visits, _new_ids("records_encounter", len(visits)), strict=True):
            visit.id = visit_id
        prescribed = [visit for visit in visits if visit.prescription_id is not None]
        new_ids = _new_ids("records_prescription", len(prescribed))
        for visit, prescription_id in zip(prescribed, new_ids, strict=True):
            visit.prescription_id = prescription_id

        result.patients += _copy("records_patient", self.patients(plans))
        result.other_rows += _copy(
            "records_careteammember",
            ((p.practice.id, p.id, p.practice.gp_id, self.today) for p in plans),
        )
        entries = _copy(
            "records_encounter",
            self.encounters(plans),
        )
        entries += _copy(
            "records_prescription",
            self.prescriptions(plans),
        )
        result.other_rows += _copy(
            "records_prescriptionitem",
            self.prescription_items(plans),
        )
        entries += _copy(
            "records_observation",
            self.observations(plans),
        )
        entries += _copy(
            "records_problem",
            self.problems(plans),
        )
        entries += _copy(
            "records_allergy",
            self.allergies(plans),
        )
        entries += _copy(
            "records_immunization",
            self.immunizations(plans),
        )
        result.entries += entries

    def patients(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for plan in plans:
            number, birth_place = self.nirs.allocate(plan.sex, plan.birth)
            given = rng.choice(FEMALE_NAMES if plan.sex == "F" else MALE_NAMES)
            adult = (self.today - plan.birth).days > 22 * 365
            married = plan.sex == "F" and adult and rng.random() < 0.35
            phone = (
                f"0{rng.choice('67')} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
                f" {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
                if rng.random() < 0.85
                else ""
            )
            yield (
                plan.id,
                plan.practice.id,
                rng.choice(FAMILY_NAMES),
                rng.choice(FAMILY_NAMES) if married else "",
                given,
                plan.sex,
                plan.birth,
                birth_place,
                number,
                f"{rng.randrange(1, 180)} {rng.choice(STREETS)}",
                *plan.practice.town,
                phone,
                "",
                plan.practice.gp_id,
                self.now,
                self.now,
                False,
                "",
                "",
                "",
                "",
                1,
                "",
            )

    def encounters(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for plan in plans:
            for visit in plan.visits:
                note = visit.note
                yield (
                    visit.id,
                    *self.entry(plan, visit.at, note.sensitivity),
                    visit.at,
                    "office" if rng.random() < 0.9 else rng.choice(("home", "phone", "video")),
                    note.reason,
                    note.subjective,
                    note.objective,
                    note.assessment,
                    note.plan,
                    rng.randrange(60, 600),
                )

    def prescriptions(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        for plan in plans:
            for visit in plan.visits:
                if visit.prescription_id is None:
                    continue
                renewals = 2 if visit.note.reason.startswith("Suivi") else 0
                yield (
                    visit.prescription_id,
                    *self.entry(plan, visit.at, visit.note.sensitivity),
                    visit.id,
                    visit.at.date(),
                    renewals,
                    "",
                )

    def prescription_items(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        for plan in plans:
            for visit in plan.visits:
                if visit.prescription_id is None:
                    continue
                for position, medicine in enumerate(visit.note.medicines):
                    yield (
                        plan.practice.id,
                        visit.prescription_id,
                        medicine.cis if medicine.cis in self.known_drugs else None,
                        medicine.label,
                        medicine.posology,
                        medicine.duration_days,
                        False,
                        True,
                        position,
                    )

    def observations(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for plan in plans:
            measure = self.vital_signs(plan)
            names = CHILD_VITALS if plan.age < 16 else ADULT_VITALS
            for visit in plan.visits:
                for name in names[: visit.vitals]:
                    vital = VITALS[name]
                    yield (
                        *self.entry(plan, visit.at, visit.note.sensitivity),
                        visit.id,
                        visit.at,
                        vital.code,
                        vital.label,
                        measure(name),
                        "",
                        vital.unit,
                        True,
                    )
            for _ in range(plan.labs):
                lab, (low, high, places) = rng.choice(LABS)
                at = self.moment(plan)
                reviewed = (self.today - at.date()).days > 30
                yield (
                    *self.entry(plan, at),
                    None,
                    at,
                    lab.code,
                    lab.label,
                    round(rng.uniform(low, high), places),
                    "",
                    lab.unit,
                    reviewed,
                )

    def vital_signs(self, plan: PatientPlan) -> Callable[[str], float]:
        """A source of plausible vital signs for this patient (their size, their age)."""
        rng, age = self.rng, plan.age
        if age < 18:
            height, weight = growth_median(age + 0.5)
            weight *= rng.uniform(0.85, 1.2)
        else:
            height = rng.gauss(164 if plan.sex == "F" else 177, 6.5)
            weight = max(18.5, rng.gauss(25.5, 4)) * (height / 100) ** 2
        systolic = 112 + 0.45 * max(age - 20, 0)

        def measure(name: str) -> float:
            if name == "weight":
                return round(weight * rng.uniform(0.97, 1.03), 1)
            if name == "height":
                return round(height)
            if name == "systolic":
                return round(rng.gauss(systolic, 10))
            if name == "diastolic":
                return round(rng.gauss(74, 7))
            if name == "heart_rate":
                return round(rng.gauss(95 if age < 6 else 74, 9))
            if name == "temperature":
                return round(rng.uniform(36.5, 39.3), 1)
            return round(rng.uniform(94, 99.5))  # spo2

        return measure

    def problems(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        for plan in plans:
            for condition in plan.conditions:
                at = self.moment(plan)
                onset = at.date()
                resolved = onset + timedelta(days=14) if condition.past else None
                yield (
                    *self.entry(plan, at, condition.sensitivity),
                    condition.code,
                    condition.label,
                    "resolved" if condition.past else "active",
                    condition.past,
                    condition.long_term_condition,
                    onset,
                    resolved,
                )

    def allergies(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        for plan in plans:
            for _ in range(plan.allergies):
                spec = self.rng.choice(ALLERGIES)
                at = self.moment(plan)
                yield (
                    *self.entry(plan, at),
                    spec.substance,
                    spec.kind,
                    spec.reaction,
                    spec.severity,
                )

    def immunizations(self, plans: list[PatientPlan]) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for plan in plans:
            for _ in range(plan.immunizations):
                vaccine = rng.choice(VACCINES_FOR[plan.age])
                at = self.moment(plan)
                lot = f"{rng.choice('ABCDEFGHKLMNPRSTUVWXYZ')}{rng.randrange(100000, 999999)}"
                yield (
                    *self.entry(plan, at),
                    at.date(),
                    vaccine.label,
                    vaccine.cis if vaccine.cis in self.known_drugs else None,
                    lot,
                    "",
                )


# The run ----------------------------------------------------------------------------


def generate(
    spec: VolumeSpec,
    *,
    progress: Callable[[str], None] | None = None,
    batch_patients: int = BATCH_PATIENTS,
) -> VolumeResult:
    """Write the volume, batch by batch (each batch commits). Must run as the tables'
    owner (see ``as_table_owner``); refuses if practices of this seed exist already."""
    if min(spec.practices, spec.patients) < 1 or spec.entries < 0:
        raise ValueError("At least one practice and one patient; entries may not be negative.")
    result = VolumeResult()
    started = clock.monotonic()
    today = timezone.localdate()
    with as_table_owner():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM practices_practice WHERE slug LIKE %s LIMIT 1",
                [f"{spec.slug_prefix}%"],
            )
            if cursor.fetchone():
                raise ValueError(
                    f"Practices {spec.slug_prefix}* exist already: choose another --seed."
                )
        with transaction.atomic():
            practices = _write_practices(spec, timezone.now(), result)
        writer = Writer(seed=spec.seed, today=today, known_drugs=demo_drugs())
        sexes = random.Random(f"volume-people:{spec.seed}")  # noqa: S311 - benchmark data
        budgets = _budgets(spec)
        done = 0
        while done < spec.patients:
            size = min(batch_patients, spec.patients - done)
            with transaction.atomic():
                ids = _new_ids("records_patient", size)
                plans = []
                for offset, patient_id in enumerate(ids):
                    plan = PatientPlan(
                        id=patient_id,
                        practice=practices[(done + offset) % len(practices)],
                        sex=sexes.choice("FM"),
                        birth=_birth_date(sexes, today),
                        budget=next(budgets),
                    )
                    _shape(plan, writer)
                    plans.append(plan)
                writer.write(plans, result)
            done += size
            result.seconds = clock.monotonic() - started
            if progress is not None:
                progress(
                    f"{done:,}/{spec.patients:,} patients, {result.entries:,}/{spec.entries:,}"
                    f" entries, {result.rows:,} rows in {result.seconds:,.0f} s:"
                    f" {result.rows_per_second:,.0f} rows/s"
                )
        # Fresh statistics, so that a benchmark run right after sees the real plans.
        tables = sql.SQL(", ").join(sql.Identifier(table) for table in COLUMNS)
        connection.cursor().connection.execute(sql.SQL("ANALYZE {}").format(tables))
    result.seconds = clock.monotonic() - started
    return result
