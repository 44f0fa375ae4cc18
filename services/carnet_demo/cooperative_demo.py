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


def demo_dues_issue() -> int:
    """Marc Lefort issues last month's dues of the member practices, so that the
    membership pages, the dues' payment and the cooperative's FEC have something to show;
    kept on a re-run (a member is invoiced once a month), nothing without the fee
    schedules (`carnet load_fees`). How many invoices were issued."""
    from datetime import timedelta

    from django.utils import timezone

    from billing.services.dues import dues_issue_month
    from core.accounts.models import Person
    from core.accounts.selectors import actor_for

    admin = Person.objects.filter(username="marc.lefort", is_cooperative_admin=True).first()
    if admin is None:
        return 0
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    done = dues_issue_month(actor=actor_for(admin, None), month=last_month.replace(day=1))
    return sum(1 for row in done if row.invoice is not None)
