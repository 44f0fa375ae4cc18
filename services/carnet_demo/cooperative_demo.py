"""Demo of the cooperative's side: one application to join, waiting for a cooperative
administrator (Marc Lefort) to approve or refuse it."""

from __future__ import annotations

from core.practices.models import MembershipApplication
from core.practices.services.applications import (
    ApplicationInput,
    PractitionerEntry,
    application_submit,
)

APPLICANT = "Cabinet infirmier du Parc"


def demo_application_create() -> MembershipApplication:
    """A nurses' practice of Lyon applies, through the public page's service (so the
    application is checked like any other); kept on a re-run."""
    existing = MembershipApplication.objects.filter(practice_name=APPLICANT).first()
    if existing is not None:
        return existing
    return application_submit(
        data=ApplicationInput(
            practice_name=APPLICANT,
            address="8 avenue du Parc",
            postal_code="69006",
            city="Lyon",
            country=MembershipApplication.Country.FRANCE,
            plan="solo",
            shares=2,
            contact_name="Élise Fabre",
            contact_email="elise.fabre@example.org",
            contact_phone="04 78 24 00 00",
            statutes_accepted=True,
            practitioners=(
                PractitionerEntry("Élise Fabre", "nurse", "10006789019"),
                PractitionerEntry("Thomas Vidal", "nurse"),
            ),
        )
    )
