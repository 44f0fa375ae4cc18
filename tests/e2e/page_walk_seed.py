"""What the page walk (tests/e2e/test_page_walk_browser.py) needs on top of the demo
practice, and the objects that fill the walked addresses.

Run inside the walked Carnet (``carnet shell -c``, its own database and keyring): it
adds what the demo has none of — an invitation not yet opened (its link's secret is
kept, to walk the invitation page too) and a share received from a neighbouring practice
— then prints, on one line after ``PAGE-WALK``, the JSON of the path values: a patient
and one entry of each kind with its patient, an invoice, an appointment to come, a filed
lab result and one waiting for its patient, the agenda's site and type, the people."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from agenda.models import Appointment, AppointmentType, Site
from billing.models import Invoice
from carnet_demo.practice import PRACTICE_SLUG
from core import tenancy
from core.accounts.models import Person
from core.accounts.selectors import actor_for
from core.accounts.services import staff
from core.practices import services as practices
from core.practices.models import Practice
from lab.models import LabFile
from records.models import Document, Patient
from records.views import ENTRY_MODELS
from tests.adversarial.matrix.world import _inbox_message

NEIGHBOUR = "cabinet-du-marche"


def main() -> None:
    practice = Practice.objects.get(slug=PRACTICE_SLUG)
    neighbour = Practice.objects.filter(slug=NEIGHBOUR).first() or practices.practice_create(
        slug=NEIGHBOUR,
        name="Cabinet du Marché",
        address="3 place du Marché",
        postal_code="69100",
        city="Villeurbanne",
    )
    people = {person.username: person.pk for person in Person.objects.all()}
    with tenancy.practice_context(practice.pk):
        admin = actor_for(Person.objects.get(username="claire.martin"), practice.pk)
        issued = staff.staff_invite(
            actor=admin,
            practice=practice,
            full_name="Inès Nouvelle",
            username="ines.nouvelle",
            roles=["secretary"],
        )
        values = path_values(practice, people, issued)
        values["message_id"] = _inbox_message(neighbour, practice)
        values["secret"] = issued.secret
    # The cooperative's pages: an application waiting for its decision, a member.
    values["application_id"] = _application()
    values["practice_id"] = practice.pk
    print("PAGE-WALK", json.dumps(values))


def _application() -> int:
    """A practice that applied to join the cooperative (its review page)."""
    from tests.factories import submitted_application

    return submitted_application("Cabinet des Remparts", "Dr Jeanne Remparts", "2 rue des Remparts")


def _living(queryset: Any) -> Any:
    return queryset.filter(patient__deceased_on=None).exclude(status="entered_in_error")


def path_values(practice: Practice, people: dict[str, int], issued: Any) -> dict[str, Any]:
    """The first object of each kind (the demo is the same on every run)."""
    entries = {
        kind: _living(model.objects.filter(patient__practice=practice)).order_by("pk").first()
        for kind, model in ENTRY_MODELS.items()
    }
    document = _living(Document.objects.filter(patient__practice=practice)).order_by("pk").first()
    patient = entries["encounter"].patient
    appointment = (
        Appointment.objects.filter(
            practice=practice, status="booked", patient__isnull=False, starts_at__gt=timezone.now()
        )
        .order_by("starts_at")
        .first()
    )
    invoice = Invoice.objects.filter(practice=practice, kind="invoice").order_by("pk").first()
    lab = LabFile.objects.filter(practice=practice)
    assert patient and appointment and invoice and document, "the demo lacks a page's object"
    return {
        "practice_slug": practice.slug,
        "patient_id": patient.pk,
        "entries": {kind: [e.patient_id, e.pk] for kind, e in entries.items() if e is not None},
        "document": [document.patient_id, document.pk],
        "invoice_id": invoice.pk,
        "appointment_id": appointment.pk,
        "lab_file_id": lab.filter(status="filed").order_by("pk").first().pk,  # type: ignore[union-attr]
        "lab_to_match": lab.filter(status="to_match").order_by("pk").first().pk,  # type: ignore[union-attr]
        "site_id": Site.objects.filter(practice=practice).order_by("pk").first().pk,  # type: ignore[union-attr]
        "type_id": AppointmentType.objects.filter(practice=practice).order_by("pk").first().pk,  # type: ignore[union-attr]
        "invitation_id": issued.invitation.pk,
        "people": people,
        "patients": Patient.objects.filter(practice=practice).count(),
    }
