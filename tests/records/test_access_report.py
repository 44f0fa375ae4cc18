"""The patient's access report ("Qui a consulté mon dossier"): one access is one audit
event and one line, on every channel; the PDF is in plain French (English when asked),
sums up the period first, and a year of care fits on two pages."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from core import tenancy
from core.audit.models import AuditEvent
from core.audit.services import record_event
from records import services
from records.access import access_for
from records.models import Document
from tests.fixtures import World
from tests.records.test_api import Api, api_for
from tests.records.test_views import login, pdf_text
from tests.sharing.test_fhir_api import Fhir, PaulRecord, fhir_for, paul_record  # noqa: F401

PDF = b"%PDF-1.4\n%report\n"


@dataclass
class Desk:
    """Alice's ways in (the web, the REST API, FHIR), Paul's record and its documents."""

    world: World
    record: PaulRecord
    upload: Document
    web: Client
    api: Api
    fhir: Fhir

    @property
    def page(self) -> str:
        return f"/p/{self.world.practice_a.slug}/patients/{self.world.paul.pk}/"

    @property
    def patient(self) -> str:
        return f"patients/{self.world.paul.pk}/"


@pytest.fixture
def desk(world: World, paul_record: PaulRecord, settings, tmp_path) -> Desk:  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    actor = world.actor(world.alice)
    upload = services.document_upload(
        actor=actor,
        access=access_for(world.paul),
        upload=io.BytesIO(PDF),
        size=len(PDF),
        title="Compte rendu d'échographie",
        kind="report",
        document_date=date(2026, 3, 2),
    )
    return Desk(
        world,
        paul_record,
        upload,
        login(Client(), world.alice),
        api_for(Client(), world, world.alice),
        fhir_for(world, world.alice),
    )


# Every way to read Paul's record, and the one event each access leaves.
READS: dict[str, tuple[Callable[[Desk], Any], str]] = {
    "chart page": (lambda d: d.web.get(d.page), "patient.read"),
    "chart JSON": (lambda d: d.api.get(d.patient + "chart/"), "patient.read"),
    "record PDF": (lambda d: d.web.get(d.page + "dossier.pdf"), "patient.print"),
    "prescription PDF (page)": (
        lambda d: d.web.get(d.page + f"ordonnance/{d.record.prescription.pk}.pdf"),
        "prescription.print",
    ),
    "prescription PDF (API)": (
        lambda d: d.api.get(d.patient + f"prescriptions/{d.record.prescription.pk}/pdf/"),
        "prescription.print",
    ),
    "letter PDF": (
        lambda d: d.web.get(d.page + f"documents/{d.record.letter.pk}/"),
        "letter.print",
    ),
    "document file (page)": (
        lambda d: d.web.get(d.page + f"documents/{d.upload.pk}/"),
        "document.read",
    ),
    "document file (API)": (
        lambda d: d.api.get(d.patient + f"documents/{d.upload.pk}/file/"),
        "document.read",
    ),
    "FHIR Patient": (lambda d: d.fhir.get(f"Patient/{d.world.paul.pk}"), "patient.read"),
    "FHIR search": (
        lambda d: d.fhir.get(f"Condition?patient={d.world.paul.pk}"),
        "patient.read",
    ),
    "FHIR $everything": (
        lambda d: d.fhir.get(f"Patient/{d.world.paul.pk}/$everything"),
        "patient.read",
    ),
    "portability export": (lambda d: d.api.get(d.patient + "portability/"), "patient.export"),
}


def paul_events(world: World) -> list[AuditEvent]:
    tenancy.activate(world.practice_a.pk)
    return list(AuditEvent.objects.filter(patient_id=world.paul.pk).order_by("seq"))


@pytest.mark.parametrize("channel", list(READS))
def test_one_access_leaves_exactly_one_event(channel: str, desk: Desk) -> None:
    read, action = READS[channel]
    before = len(paul_events(desk.world))
    response = read(desk)
    assert response.status_code == 200, response.content[:300]
    new = paul_events(desk.world)[before:]
    assert [event.action for event in new] == [action]
    assert new[0].actor_id == desk.world.alice.pk and new[0].outcome == "success"


def test_a_clinical_write_leaves_one_event_saying_what_was_added(desk: Desk) -> None:
    before = len(paul_events(desk.world))
    response = desk.api.send(
        "post", desk.patient + "allergies/", {"substance": "Latex", "reaction": "Eczéma"}
    )
    assert response.status_code == 201, response.content
    assert [e.action for e in paul_events(desk.world)[before:]] == ["allergy.create"]


def test_an_emergency_access_leaves_one_event(desk: Desk) -> None:
    bob = api_for(Client(), desk.world, desk.world.bob)
    before = len(paul_events(desk.world))
    opened = bob.send(
        "post", desk.patient + "break-glass/", {"reason": "Malaise au cabinet, médecin absente"}
    )
    assert opened.status_code == 201, opened.content
    assert [e.action for e in paul_events(desk.world)[before:]] == ["break_glass.start"]


# --- a year of care -----------------------------------------------------------------------

CONSULTATIONS = 10
ENGLISH = {
    "the", "and", "of", "your", "you", "record", "read", "wrote", "printed", "opened",
    "looked", "added", "recorded", "access", "accessed", "accesses", "emergency", "share",
    "shares", "clinical", "identity", "create", "update", "problem", "member", "team",
    "care", "people", "who", "what", "when", "why", "from", "to", "by", "with", "no",
    "nobody", "software", "was", "were", "refused", "this", "report", "born", "on",
}  # fmt: skip
MESSAGE_ID = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


@dataclass
class Year:
    desk: Desk
    reads: dict[str, int]  # channel -> accesses made


@pytest.fixture
def year(desk: Desk) -> Year:
    """Paul's year: consultations with vital signs, prescriptions printed, the chart
    opened on the web and through the API, each PDF, his documents, FHIR reads and his
    portability copy; Bob's emergency access; a share with another practice."""
    world, reads = desk.world, dict.fromkeys(READS, 0)

    def access(channel: str) -> None:
        assert READS[channel][0](desk).status_code == 200
        reads[channel] += 1

    for number in range(CONSULTATIONS):
        access("chart page")
        created = desk.api.send(
            "post",
            desk.patient + "encounters/",
            {"reason": f"Suivi n° {number + 1}", "subjective": "Va bien"},
        )
        assert created.status_code == 201, created.content
        prescribed = desk.api.send(
            "post",
            desk.patient + "prescriptions/",
            {"items": [{"drug_label": "Metformine", "posology": "1 cp", "duration_days": 90}]},
        )
        assert prescribed.status_code == 201, prescribed.content
        access("prescription PDF (page)")
    assert desk.api.send("post", desk.patient + "allergies/", {"substance": "Latex"}).status_code
    for channel in READS:
        if channel not in ("chart page", "prescription PDF (page)"):
            access(channel)
    # Bob, not in the care team, opens the record in an emergency.
    bob = api_for(Client(), world, world.bob)
    opened = bob.send(
        "post", desk.patient + "break-glass/", {"reason": "Malaise au cabinet, Dr Arnaud absente"}
    )
    assert opened.status_code == 201, opened.content
    assert login(Client(), world.bob).get(desk.page).status_code == 200
    # A share to another practice, as the exchange records it.
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    record_event(
        "share.send",
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        category="clinical",
        purpose="care",
        target="practice:node-b/cabinet-b",
        details={"categories": {"problems": 3, "allergies": 1}},
    )
    return Year(desk, reads)


def report(year: Year, lang: str = "") -> tuple[bytes, str]:
    sam = login(Client(), year.desk.world.sam)
    response = sam.get(year.desk.page + "acces.pdf" + (f"?lang={lang}" if lang else ""))
    assert response.status_code == 200
    return response.content, pdf_text(response.content)


def test_the_access_report_of_a_year_is_plain_french_on_two_pages(year: Year) -> None:
    content, text = report(year)
    Path("var/test").mkdir(parents=True, exist_ok=True)
    Path("var/test/access-report.pdf").write_bytes(content)  # to look at
    words = {word.lower() for word in re.findall(r"[A-Za-z']+", text)}
    assert words & ENGLISH == set(), text
    assert MESSAGE_ID.findall(text) == [], text
    assert len(PdfReader(io.BytesIO(content)).pages) <= 2
    for said in (
        "Qui a consulté mon dossier",
        "Dr Alice Arnaud, médecin généraliste",
        "a ouvert votre dossier",
        "a imprimé une ordonnance",
        "a ajouté une allergie",
        "a enregistré une consultation",
        "a ouvert votre dossier en urgence",
        "Malaise au cabinet",
        "1 accès en urgence",
        "1 partage avec un autre cabinet",
        "pour vos soins",
    ):
        assert said in text, said
    assert "identité" not in text.replace("votre identité et vos coordonnées", "")


def test_the_access_report_has_one_line_per_read_on_every_channel(year: Year) -> None:
    from django.utils import translation

    from records.printing import access_report

    world = year.desk.world
    with translation.override("fr"):
        _patient, lines = access_report(actor=world.actor(world.sam), patient_id=world.paul.pk)
    read_actions = {action for _read, action in READS.values()}
    accesses: dict[str, list[AuditEvent]] = {}
    for event in paul_events(world):
        if event.request_id:  # the record to start with was written outside a request
            accesses.setdefault(event.request_id, []).append(event)
    # The requests that only read (a prescription written reads the allergies and the
    # treatment for its safety checks: that read is part of the write, said by its line).
    reads = [
        events
        for events in accesses.values()
        if {e.action for e in events} & read_actions
        and all(e.action in read_actions for e in events)
    ]
    assert [len(events) for events in reads] == [1] * len(reads)  # one event per read
    assert len(reads) == sum(year.reads.values()) + 1  # + Bob's opening in an emergency
    # Every read has a line of its own, and no line hides a second read.
    read_lines = [line for line in lines if [line.event] in reads]
    assert len(read_lines) == len(reads)
    for line in lines:
        assert len([e for e in line.events if [e] in reads]) <= 1
    # No clinical write is said as a change of identity or of the record as a whole.
    for line in lines:
        if line.event.category == "clinical" and line.kind == "write":
            assert "identité" not in line.what and line.what != "a mis à jour votre dossier"
    written = [line.what for line in lines if line.kind == "write"]
    # The year's consultations and prescriptions, and those of the record to start with.
    assert written.count("a enregistré une consultation") == CONSULTATIONS + 1
    assert written.count("a rédigé une ordonnance") == CONSULTATIONS + 1


def test_the_access_report_is_in_english_when_asked(year: Year) -> None:
    content, text = report(year, "en")
    Path("var/test").mkdir(parents=True, exist_ok=True)
    Path("var/test/access-report-en.pdf").write_bytes(content)  # to look at
    for said in (
        "Who looked at my record",
        "Dr Alice Arnaud, general practitioner",
        "opened your record",
        "printed a prescription",
        "1 emergency access",
    ):
        assert said in text, said
    assert "a ouvert" not in text and "Qui a consulté" not in text


def test_the_access_report_is_printed_for_the_patient_not_by_another_practice(
    year: Year,
) -> None:
    world = year.desk.world
    charlie = login(Client(), world.charlie)
    assert (
        charlie.get(f"/p/{world.practice_b.slug}/patients/{world.paul.pk}/acces.pdf").status_code
        == 404
    )


def test_the_access_report_of_the_busiest_demo_patient_fits_on_two_pages(world: World) -> None:
    """The demo patient with the longest history (written by the demo's own writer,
    through the services), their chart opened once per consultation: two pages at most."""
    from tests.carnet_demo.test_demo_histories import IDENTITIES, plan, register, write_histories

    busiest = max(IDENTITIES, key=lambda identity: plan(identity).entry_count)
    [patient] = register(world, [busiest])
    assert write_histories(world, [busiest]) == 1
    alice = login(Client(), world.alice)
    page = f"/p/{world.practice_a.slug}/patients/{patient.pk}/"
    for _consultation in plan(busiest).consultations:
        assert alice.get(page).status_code == 200
    sam = login(Client(), world.sam)
    response = sam.get(page + "acces.pdf")
    assert response.status_code == 200
    pages = len(PdfReader(io.BytesIO(response.content)).pages)
    assert plan(busiest).entry_count >= 30 and pages <= 2, (plan(busiest).entry_count, pages)


def test_a_form_opened_but_not_sent_is_said_as_an_opening_not_a_change(desk: Desk) -> None:
    from django.utils import translation

    from records.printing import access_report

    assert desk.web.get(desk.page + "ajouter/allergy/").status_code == 200
    world = desk.world
    with translation.override("fr"):
        _patient, lines = access_report(actor=world.actor(world.sam), patient_id=world.paul.pk)
    assert lines[-1].what == "a ouvert votre dossier pour y écrire"
    assert lines[-1].kind == "read"
    assert "a mis à jour votre dossier" not in [line.what for line in lines]
