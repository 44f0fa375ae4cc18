"""The world the authorization matrix runs in, built once per test module.

Two practices on one node. Practice A (``cabinet-a``): Alice (GP), Bob (practitioner),
Sam (secretary), Pia (practice administrator). Practice B (``cabinet-b``): Charlie (GP).
Colette (``coop``) is the cooperative's administrator, with no role in either practice.

Each scenario of the matrix is a patient (or entries of a patient) in a known state:

- ``own``: Paul, GP Alice, ordinary entries written by Alice;
- ``sensitive``: entries of Paul labelled ``mental_health``, written by Bob;
- ``excluded``: Eve, GP Alice, who excluded Alice (her GP of record) and Sam from her
  record; Bob is in her care team;
- ``revoked``: Rita, GP Alice, whose only sharing consent was revoked;
- ``expired``: Bruno, GP Alice; Bob's emergency access to him has expired;
- ``other``: Zoé, patient of practice B, GP Charlie.

Every patient and every entry carries a unique marker word in its text, so a response
body can be searched for data the rules say the reader may not see.

The matrix runs with both practices in each care-team setting (``set_care_team_mode``).
In ``practice`` mode Bob is in every patient's team of practice A, so the ``expired``
scenario shows him Bruno's record through the practice's team, not through his expired
emergency access; the refusal of an expired access is checked in ``named`` mode.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from core import tenancy
from core.access.models import BreakGlass, LabelGrant, Restriction, SharingConsent
from core.accounts import services as accounts
from core.accounts.models import Membership, Person
from core.accounts.selectors import actor_for
from core.audit.services import record_event
from core.practices.models import Practice
from records.models import (
    Allergy,
    CareTeamMember,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from tests.factories import MembershipFactory, PatientFactory, PersonFactory, PracticeFactory
from tests.fixtures import enroll, totp_code
from tests.fixtures_password import PASSWORD

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ENTRY_KINDS = (
    "encounter",
    "problem",
    "allergy",
    "immunization",
    "observation",
    "prescription",
    "document",
    "letter",
)


@dataclass
class PatientCase:
    """One patient of the world, with its entries by kind and what the rules need."""

    name: str
    patient: Patient
    practice: Practice
    marker: str  # in the patient's birth name
    care_team: set[int]
    excluded: set[int] = field(default_factory=set)
    entries: dict[str, Any] = field(default_factory=dict)  # kind -> row
    markers: dict[str, str] = field(default_factory=dict)  # kind -> marker in its text
    invoice_id: int = 0
    consent_id: int = 0
    restriction_id: int = 0
    grant_id: int = 0  # a label grant (genetics, no entry carries it) to withdraw
    audit_event_id: int = 0
    # an emergency access to the patient, over (its letter waits at the desk)
    emergency_id: int = 0
    # "appointment" (booked, ahead), "past_appointment" (booked, begun), "walk_in" -> id
    appointments: dict[str, int] = field(default_factory=dict)
    lab_file_id: int = 0  # results filed in the chart for the patient's practitioner


@dataclass
class AgendaCase:
    """A practice's agenda in the world: its type and site, the practitioner whose
    agenda, hours and absence the requests name, that absence, and a feed (of the
    practice's GP)."""

    type_id: int
    site_id: int
    practitioner_id: int
    absence_id: int
    feed_id: int


@dataclass
class RoleCase:
    name: str  # alice, bob, ... or alice-token
    person: Person | None
    practice: Practice | None  # home practice (token's practice for tokens)
    roles: frozenset[str]
    client: Client
    token: str = ""
    key_id: str = ""

    @property
    def is_token(self) -> bool:
        return bool(self.token)


@dataclass
class MatrixWorld:
    practice_a: Practice
    practice_b: Practice
    people: dict[str, Person]
    patients: dict[str, PatientCase]  # by patient name: paul, eve, rita, bruno, zoe
    sensitive: dict[str, Any]  # kind -> sensitive entry of Paul (by Bob)
    sensitive_markers: dict[str, str]
    roles: dict[str, RoleCase]
    inbox: dict[int, str]  # practice id -> message id of a share waiting in its inbox
    expired_grant_id: int = 0
    fec_month: str = ""
    # (entry type, entry id) -> people the patient excluded from that entry
    entry_excluded: dict[tuple[str, int], set[int]] = field(default_factory=dict)
    # patient name -> the person the patient's restriction (the one the matrix lifts) is about
    restriction_person: dict[str, int] = field(default_factory=dict)
    # patient name -> (recipient practice slug, category) of an active consent
    active_consent_to: dict[str, tuple[str, str]] = field(default_factory=dict)
    # (label, person) allowed by the patient: none in this world
    label_grants: frozenset[tuple[str, int]] = frozenset()
    # practice id -> an invitation of that practice (the team pages)
    invitation: dict[int, int] = field(default_factory=dict)
    # the care-team setting both practices have now ("named" or "practice"; §5)
    care_team_mode: str = "named"
    # practice id -> its agenda
    agenda: dict[int, AgendaCase] = field(default_factory=dict)
    lab_queue: dict[int, int] = field(default_factory=dict)  # practice id -> file to match
    # An application to join the cooperative, pending (the cooperative's pages).
    application_id: int = 0

    def set_care_team_mode(self, mode: str) -> None:
        """Both practices switch (inside the world's transaction): every request reads
        the practice again, so the next one sees it."""
        Practice.objects.filter(pk__in=[self.practice_a.pk, self.practice_b.pk]).update(
            care_team_mode=mode
        )
        self.care_team_mode = mode

    def all_markers(self) -> list[tuple[str, str, str, str]]:
        """(marker, patient name, kind or 'identity', 'plain'|'sensitive')."""
        found = []
        for case in self.patients.values():
            found.append((case.marker, case.name, "identity", "plain"))
            for kind, marker in case.markers.items():
                found.append((marker, case.name, kind, "plain"))
        for kind, marker in self.sensitive_markers.items():
            found.append((marker, "paul", kind, "sensitive"))
        return found


def _marker(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _entries(
    practice: Practice,
    patient: Patient,
    author: Person,
    *,
    label: str = "",
    tag: str,
) -> tuple[dict[str, Any], dict[str, str]]:
    """One entry of every kind, each with its own marker in its text."""
    markers = {kind: _marker(f"Mk{tag}{kind[:3]}") for kind in ENTRY_KINDS}
    common = {"practice": practice, "patient": patient, "author": author, "sensitivity": label}
    rows: dict[str, Any] = {
        "encounter": Encounter.objects.create(
            **common, reason=markers["encounter"], subjective="note"
        ),
        "problem": Problem.objects.create(**common, label=markers["problem"]),
        "allergy": Allergy.objects.create(**common, substance=markers["allergy"]),
        "immunization": Immunization.objects.create(
            **common, vaccinated_on=date(2024, 1, 2), vaccine=markers["immunization"]
        ),
        "observation": Observation.objects.create(
            **common, code="8867-4", label="Heart rate", value_text=markers["observation"]
        ),
    }
    prescription = Prescription.objects.create(**common, note=markers["prescription"])
    prescription.item_id = PrescriptionItem.objects.create(
        practice=practice,
        prescription=prescription,
        drug_label=markers["prescription"],
        posology="1/j",
        duration_days=300,
    ).pk
    rows["prescription"] = prescription
    document = Document.objects.create(
        **common,
        kind="report",
        title=markers["document"],
        document_date=date(2024, 3, 4),
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
    )
    document.file.save(f"{uuid.uuid4().hex}.pdf", ContentFile(PDF_BYTES), save=True)
    rows["document"] = document
    rows["letter"] = Document.objects.create(
        **common,
        kind="letter",
        title=markers["letter"],
        recipient="Dr Destinataire",
        body=markers["letter"],
        document_date=date(2024, 3, 5),
    )
    return rows, markers


def _patient(
    practice: Practice, name: str, gp: Person, team: list[Person], tag: str
) -> PatientCase:
    marker = _marker(f"Nom{tag}")
    patient = PatientFactory(
        practice=practice, gp=gp, birth_name=marker, given_names=name.title(), nir=""
    )
    for person in team:
        CareTeamMember.objects.create(practice=practice, patient=patient, person_id=person.pk)
    entries, markers = _entries(practice, patient, gp, tag=tag)
    case = PatientCase(
        name=name,
        patient=patient,
        practice=practice,
        marker=marker,
        care_team={gp.pk, *(p.pk for p in team)},
        entries=entries,
        markers=markers,
    )
    return case


def _invoice(case: PatientCase, issuer_person: Person) -> None:
    from billing import services as billing_services
    from billing.pricing import Coverage

    actor = actor_for(issuer_person, case.practice.pk)
    draft = billing_services.invoice_draft(
        actor=actor,
        issuer=billing_services.issuer_for(issuer_person),
        patient_id=case.patient.pk,
        birth_date=case.patient.birth_date,
        service_date=timezone.localdate(),
        lines=[billing_services.LineInput(code="G")],
        coverage=Coverage(),
        encounter_id=None,
    )
    case.invoice_id = billing_services.invoice_issue(actor=actor, invoice=draft).pk


def _consent(case: PatientCase, witness: Person, *, revoked: bool, node: str, to: str) -> None:
    consent = SharingConsent.objects.create(
        practice=case.practice,
        patient_id=case.patient.pk,
        grantee_node=node,
        grantee_practice=to,
        categories=["allergies", "problems"],
        labels=[],
        valid_from=timezone.localdate() - timedelta(days=10),
        source="formulaire 1",
        witness=witness,
        status=SharingConsent.Status.REVOKED if revoked else SharingConsent.Status.ACTIVE,
        revoked_at=timezone.now() if revoked else None,
    )
    case.consent_id = consent.pk


def _expired_grant(practice: Practice, case: PatientCase, person: Person) -> int:
    """An emergency access to the patient, over: its letter to the patient is pending."""
    now = timezone.now()
    return BreakGlass.objects.create(
        practice=practice,
        patient_id=case.patient.pk,
        person=person,
        reason="appel du centre 15 pendant la garde",
        started_at=now - timedelta(days=2),
        expires_at=now - timedelta(days=2) + timedelta(hours=4),
    ).pk


def _restriction(case: PatientCase, person: Person, recorder: Person, **entry: Any) -> int:
    row = Restriction.objects.create(
        practice=case.practice,
        patient_id=case.patient.pk,
        person=person,
        source="formulaire 2",
        recorded_by=recorder,
        **entry,
    )
    return row.pk


def _grant(case: PatientCase, person: Person, recorder: Person) -> int:
    """A permission to see genetics entries (none in this world: reads are unchanged)."""
    row = LabelGrant.objects.create(
        practice=case.practice,
        patient_id=case.patient.pk,
        label="genetics",
        person=person,
        source="formulaire 3",
        recorded_by=recorder,
    )
    return row.pk


def _audit_anchor_event(case: PatientCase) -> None:
    """An event on the patient, for the FHIR AuditEvent read (appended at once here)."""
    from core.audit.models import AuditEvent

    record_event("matrix.setup", patient_id=case.patient.pk, practice_id=case.practice.pk)
    case.audit_event_id = (
        AuditEvent.objects.filter(patient_id=case.patient.pk, action="matrix.setup")
        .values_list("pk", flat=True)
        .get()
    )


def _seal_share(sender: Practice, recipient: Practice) -> tuple[str, str]:
    """A share from ``sender`` to ``recipient``, sealed for real (OpenPGP)."""
    from core import openpgp
    from sharing import keys
    from sharing.envelope import Address, new_envelope, seal
    from sharing.selectors import node_name

    node = node_name()
    signer = keys.ensure_practice_key(node, sender.slug, sender.name)
    to_key = keys.ensure_practice_key(node, recipient.slug, recipient.name)
    shared_name = _marker("Partage")  # a person no scenario is about
    patient_id = f"{node}.{sender.pk}.{uuid.uuid4().hex[:6]}"
    now = timezone.now().isoformat()
    loinc = {"system": "http://loinc.org", "code": "60591-5", "display": "Patient summary"}
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "timestamp": now,
        "entry": [
            {
                "resource": {
                    "resourceType": "Composition",
                    "status": "final",
                    "type": {"coding": [loinc]},
                    "subject": {"reference": f"Patient/{patient_id}"},
                    "date": now,
                    "author": [{"display": "Dr Charlie Caron"}],
                    "title": "Synthèse",
                }
            },
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": patient_id,
                    "name": [{"family": shared_name, "given": ["Ines"]}],
                    "gender": "female",
                    "birthDate": "1981-02-03",
                }
            },
        ],
    }
    envelope = new_envelope(
        kind="share",
        sender=Address(node, sender.slug),
        recipient=Address(node, recipient.slug),
        payload={"bundle": bundle, "consent_id": 1},
    )
    sealed = seal(openpgp.node_keyring().gpg, envelope, signer=signer, recipient_fingerprint=to_key)
    return envelope.message_id, sealed, signer, envelope.expires_at  # type: ignore[return-value]


def _invitation(practice: Practice, inviter: Person) -> int:
    """A newcomer invited to the practice, who has not opened their link yet."""
    from core.accounts.models import Invitation

    newcomer = PersonFactory(username=f"newcomer.{practice.slug}", full_name="Nouvelle Recrue")
    tenancy.activate(practice.pk)
    MembershipFactory(practice=practice, person=newcomer, role="secretary")
    invitation = Invitation.objects.create(
        practice=practice,
        person=newcomer,
        created_by=inviter,
        secret_hash=Invitation.hash_secret(uuid.uuid4().hex),
        expires_at=timezone.now() + timedelta(hours=72),
    )
    tenancy.activate(None)
    return invitation.pk


def _application() -> int:
    """A practice that applied to join the cooperative and waits for the decision."""
    from tests.factories import submitted_application

    return submitted_application("Cabinet Candidat", "Dr Jeanne Candidat", "1 place du Marché")


def _inbox_message(sender: Practice, recipient: Practice) -> str:
    from sharing.models import InboxMessage

    message_id, sealed, signer, expires_at = _seal_share(sender, recipient)  # type: ignore[misc]
    InboxMessage.objects.create(
        practice=recipient,
        message_id=message_id,
        kind="share",
        sender_node=_node(),
        sender_practice=sender.slug,
        signer_fingerprint=signer,
        sealed=sealed,
        expires_at=expires_at,
    )
    return message_id


def _node() -> str:
    from sharing.selectors import node_name

    return node_name()


def _directory(practice: Practice) -> None:
    from sharing import keys
    from sharing.models import DirectoryEntry

    fingerprint = keys.ensure_practice_key(_node(), practice.slug, practice.name)
    DirectoryEntry.objects.create(
        node=_node(),
        gateway="http://127.0.0.1:9/",
        slug=practice.slug,
        name=practice.name,
        fingerprints=[fingerprint],
        public_keys=keys.public_key(fingerprint),
        directory_version=1,
    )


def next_monday() -> date:
    """A Monday to come (never today)."""
    today = timezone.localdate()
    return today + timedelta(days=(7 - today.weekday()) or 7)


def _agenda_frame(practice: Practice, practitioners: list[Person]) -> tuple[int, int]:
    """A site, a type, and the practitioners open Monday to Saturday, 8:00-19:00."""
    from datetime import time

    from agenda.models import AppointmentType, OpeningHours, Site

    site = Site.objects.create(practice=practice, name="Cabinet", address="1 rue du Marché")
    kind = AppointmentType.objects.create(practice=practice, name="Consultation", minutes=20)
    for person in practitioners:
        for weekday in range(6):
            OpeningHours.objects.create(
                practice=practice,
                practitioner=person,
                site=site,
                weekday=weekday,
                starts=time(8),
                ends=time(19),
            )
    return kind.pk, site.pk


def _lab_file(case: PatientCase, practitioner: Person) -> None:
    """Results filed in the patient's chart for ``practitioner``, unread: a report and
    one abnormal value, as lab.services file them."""
    from lab.models import FileStatus, LabFile
    from records.models import Document, Observation

    report = Document.objects.create(
        practice=case.practice,
        patient=case.patient,
        author=practitioner,
        kind=Document.Kind.RESULT,
        title="Résultats",
        document_date=timezone.localdate(),
    )
    Observation.objects.create(
        practice=case.practice,
        patient=case.patient,
        author=practitioner,
        code="GLU",
        label="Glycémie",
        value=1.3,
        unit="g/L",
        flag="high",
        reviewed=False,
        report=report,
    )
    case.lab_file_id = LabFile.objects.create(
        practice=case.practice,
        source="api",
        sha256=hashlib.sha256(f"mx-lab-{case.name}".encode()).hexdigest(),
        size=1,
        original=b"x",
        format="hprim",
        status=FileStatus.FILED,
        patient=case.patient,
        practitioner=practitioner,
        report=report,
        filed_at=timezone.now(),
        result_count=1,
        abnormal_count=1,
    ).pk


def _lab_waiting(practice: Practice) -> int:
    """A laboratory file waiting in the practice's matching queue."""
    from lab.models import FileStatus, LabFile

    return LabFile.objects.create(
        practice=practice,
        source="api",
        sha256=hashlib.sha256(f"mx-lab-wait-{practice.slug}".encode()).hexdigest(),
        size=40,
        original=b"RES|GLYCEMIE|GLU|N|1.30|g/L|0.74|1.06|H|F\n",
        format="hprim",
        status=FileStatus.TO_MATCH,
        family="INCONNU",
        given="PAUL",
        reason_code="none",
    ).pk


def _appointments(
    case: PatientCase, practitioner: Person, kind: int, site: int, hour: int, reason: str = ""
) -> None:
    """The patient's booked appointment ahead (at ``hour`` next Monday), one that began
    ``hour`` hours ago (to mark missed), and a walk-in waiting for whoever is free."""
    from datetime import datetime, time

    from agenda.models import Appointment, Channel, Status
    from agenda.selectors.slots import local_zone

    common = {
        "practice": case.practice,
        "patient": case.patient,
        "type_id": kind,
        "site_id": site,
        "created_by": practitioner,
    }
    ahead = datetime.combine(next_monday(), time(hour), tzinfo=local_zone())
    begun = timezone.now() - timedelta(hours=hour)
    case.appointments = {
        "appointment": Appointment.objects.create(
            **common,
            practitioner=practitioner,
            starts_at=ahead,
            ends_at=ahead + timedelta(minutes=20),
            reason=reason,
        ).pk,
        "past_appointment": Appointment.objects.create(
            **common,
            practitioner=practitioner,
            starts_at=begun,
            ends_at=begun + timedelta(minutes=20),
        ).pk,
        "walk_in": Appointment.objects.create(
            **common,
            channel=Channel.WALK_IN,
            status=Status.ARRIVED,
            arrived_at=timezone.now() - timedelta(seconds=hour),  # today, in order
        ).pk,
    }


def _agenda(
    practice: Practice, gp: Person, practitioner: Person, kind: int, site: int
) -> AgendaCase:
    from agenda.models import Absence, CalendarFeed

    starts = timezone.now() + timedelta(days=60)
    absence = Absence.objects.create(
        practice=practice,
        practitioner=practitioner,
        starts_at=starts,
        ends_at=starts + timedelta(days=5),
        label="congés",
        created_by=practitioner,
    )
    feed = CalendarFeed.objects.create(
        practice=practice,
        practitioner=gp,
        key_id=uuid.uuid4().hex[:16],
        secret_hash=hashlib.sha256(uuid.uuid4().hex.encode()).hexdigest(),
    )
    return AgendaCase(kind, site, practitioner.pk, absence.pk, feed.pk)


def next_monday_at(hour: int) -> Any:
    from datetime import datetime, time

    from agenda.selectors.slots import local_zone

    return datetime.combine(next_monday(), time(hour), tzinfo=local_zone())


def _login(person: Person) -> Client:
    """The real two steps: password, then a TOTP code."""
    client = Client(raise_request_exception=False)
    device = enroll(person)
    client.post("/connexion/", {"username": person.username, "password": PASSWORD})
    response = client.post("/connexion/code/", {"code": totp_code(device)})
    assert response.status_code == 302, response.content[:300]
    return client


def build() -> MatrixWorld:
    """Build the world (inside the caller's transaction)."""
    practice_a = PracticeFactory(slug="mx-cabinet-a", name="Cabinet A")
    practice_b = PracticeFactory(slug="mx-cabinet-b", name="Cabinet B")
    people = {
        "alice": PersonFactory(username="mx-alice", full_name="Dr Alice Arnaud"),
        "bob": PersonFactory(username="mx-bob", full_name="Dr Bob Blanc"),
        "sam": PersonFactory(username="mx-sam", full_name="Sam Simon"),
        "pia": PersonFactory(username="mx-pia", full_name="Pia Poirier"),
        "charlie": PersonFactory(username="mx-charlie", full_name="Dr Charlie Caron"),
    }
    tenancy.activate(practice_a.pk)
    memberships = {
        "alice": (practice_a, "practitioner"),
        "bob": (practice_a, "practitioner"),
        "sam": (practice_a, "secretary"),
        "pia": (practice_a, "practice_admin"),
    }
    for name, (practice, role) in memberships.items():
        MembershipFactory(practice=practice, person=people[name], role=role)
    alice, bob, sam = people["alice"], people["bob"], people["sam"]

    paul = _patient(practice_a, "paul", alice, [], "Paul")
    sensitive, sensitive_markers = _entries(
        practice_a, paul.patient, bob, label="mental_health", tag="Sens"
    )
    eve = _patient(practice_a, "eve", alice, [bob], "Eve")
    rita = _patient(practice_a, "rita", alice, [], "Rita")
    bruno = _patient(practice_a, "bruno", alice, [], "Bruno")
    for case in (paul, rita, bruno):
        # An entry-level exclusion of the practice admin (a restriction to lift).
        case.restriction_id = _restriction(
            case, people["pia"], sam, entry_type="problem", entry_id=case.entries["problem"].pk
        )
    eve.restriction_id = _restriction(eve, alice, bob)
    for case in (paul, eve, rita, bruno):
        case.grant_id = _grant(case, bob, sam)
    _restriction(eve, sam, bob)
    eve.excluded = {alice.pk, sam.pk}
    now = timezone.now()
    grant = BreakGlass.objects.create(
        practice=practice_a,
        patient_id=bruno.patient.pk,
        person=bob,
        reason="urgence de nuit, patient inconscient",
        started_at=now - timedelta(hours=6),
        expires_at=now - timedelta(hours=2),
    )
    bruno.emergency_id = grant.pk
    for case in (paul, eve, rita):
        case.emergency_id = _expired_grant(practice_a, case, bob)
    node = _node()
    _consent(paul, sam, revoked=False, node=node, to=practice_b.slug)
    _consent(eve, sam, revoked=False, node=node, to=practice_b.slug)
    _consent(rita, sam, revoked=True, node=node, to=practice_b.slug)
    _consent(bruno, sam, revoked=True, node=node, to="ailleurs")
    for case in (paul, eve, rita, bruno):
        _invoice(case, alice)
        _audit_anchor_event(case)
    # The agenda: Paul's appointment with Alice carries his consultation's marker as its
    # reason (clinical text: only who may read that consultation may read it); his
    # appointment with Bob has no reason. Eve, who excluded Alice, is booked with Bob.
    kind_a, site_a = _agenda_frame(practice_a, [alice, bob])
    _appointments(paul, alice, kind_a, site_a, 9, reason=paul.markers["encounter"])
    _appointments(eve, bob, kind_a, site_a, 10)
    _appointments(rita, alice, kind_a, site_a, 11)
    _appointments(bruno, alice, kind_a, site_a, 12)
    for case, practitioner in ((paul, alice), (eve, bob), (rita, alice), (bruno, alice)):
        _lab_file(case, practitioner)
    lab_queue = {practice_a.pk: _lab_waiting(practice_a)}
    from agenda.models import Appointment

    paul_with_bob = next_monday_at(8)
    Appointment.objects.create(
        practice=practice_a,
        practitioner=bob,
        patient=paul.patient,
        type_id=kind_a,
        site_id=site_a,
        starts_at=paul_with_bob,
        ends_at=paul_with_bob + timedelta(minutes=20),
        created_by=sam,
    )
    agenda = {practice_a.pk: _agenda(practice_a, alice, bob, kind_a, site_a)}

    tenancy.activate(practice_b.pk)
    MembershipFactory(practice=practice_b, person=people["charlie"], role="practitioner")
    zoe = _patient(practice_b, "zoe", people["charlie"], [], "Zoe")
    zoe.restriction_id = _restriction(
        zoe,
        people["charlie"],
        people["charlie"],
        entry_type="allergy",
        entry_id=zoe.entries["allergy"].pk,
    )
    zoe.grant_id = _grant(zoe, people["charlie"], people["charlie"])
    zoe.emergency_id = _expired_grant(practice_b, zoe, people["charlie"])
    _consent(zoe, people["charlie"], revoked=False, node=node, to=practice_a.slug)
    _invoice(zoe, people["charlie"])
    _audit_anchor_event(zoe)
    kind_b, site_b = _agenda_frame(practice_b, [people["charlie"]])
    _appointments(zoe, people["charlie"], kind_b, site_b, 9)
    _lab_file(zoe, people["charlie"])
    lab_queue[practice_b.pk] = _lab_waiting(practice_b)
    agenda[practice_b.pk] = _agenda(
        practice_b, people["charlie"], people["charlie"], kind_b, site_b
    )

    tenancy.activate(None)
    _directory(practice_a)
    _directory(practice_b)
    inbox = {}
    tenancy.activate(practice_a.pk)
    inbox[practice_a.pk] = _inbox_message(practice_b, practice_a)
    tenancy.activate(practice_b.pk)
    inbox[practice_b.pk] = _inbox_message(practice_a, practice_b)
    tenancy.activate(None)

    roles: dict[str, RoleCase] = {}
    homes = {"charlie": practice_b}
    for name, person in people.items():
        practice = homes.get(name, practice_a)
        tenancy.activate(practice.pk, person.pk)  # memberships are under RLS
        role_names = frozenset(
            Membership.objects.filter(person=person, practice=practice).values_list(
                "role", flat=True
            )
        )
        tenancy.activate(None)
        roles[name] = RoleCase(name, person, practice, role_names, _login(person))
        tenancy.activate(practice.pk, person.pk)
        token, plaintext = accounts.api_token_create(person=person, practice=practice, name="mx")
        roles[f"{name}-token"] = RoleCase(
            f"{name}-token",
            person,
            practice,
            role_names,
            Client(raise_request_exception=False),
            plaintext,
            token.key_id,
        )
        roles[name].key_id = token.key_id
        tenancy.activate(None)
    invitation = {
        practice.pk: _invitation(practice, inviter)
        for practice, inviter in ((practice_a, alice), (practice_b, people["charlie"]))
    }
    # The cooperative's administrator: no role in any practice (§5). Requests name
    # practice A, where she has none.
    coop = PersonFactory(username="mx-coop", full_name="Colette Coop", is_cooperative_admin=True)
    roles["coop"] = RoleCase("coop", coop, practice_a, frozenset(), _login(coop))
    roles["anonymous"] = RoleCase(
        "anonymous", None, None, frozenset(), Client(raise_request_exception=False)
    )
    assert all(roles[name].roles for name in people), "every person has a role"
    entry_excluded = {
        ("problem", case.entries["problem"].pk): {people["pia"].pk} for case in (paul, rita, bruno)
    }
    entry_excluded[("allergy", zoe.entries["allergy"].pk)] = {people["charlie"].pk}
    return MatrixWorld(
        application_id=_application(),
        invitation=invitation,
        entry_excluded=entry_excluded,
        restriction_person={
            "paul": people["pia"].pk,
            "rita": people["pia"].pk,
            "bruno": people["pia"].pk,
            "eve": alice.pk,
            "zoe": people["charlie"].pk,
        },
        active_consent_to={
            "paul": (practice_b.slug, "allergies"),
            "eve": (practice_b.slug, "allergies"),
            "zoe": (practice_a.slug, "allergies"),
        },
        practice_a=practice_a,
        practice_b=practice_b,
        people=people,
        patients={c.name: c for c in (paul, eve, rita, bruno, zoe)},
        sensitive=sensitive,
        sensitive_markers=sensitive_markers,
        roles=roles,
        inbox=inbox,
        expired_grant_id=grant.pk,
        fec_month=timezone.localdate().strftime("%Y-%m"),
        agenda=agenda,
        lab_queue=lab_queue,
    )
