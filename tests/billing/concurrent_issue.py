"""Run by test_concurrency.py in its own process, against its own database: many people
issue invoices at the same instant, some of them fail and roll back. Prints JSON."""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
django.setup()

from django.db import connections, transaction  # noqa: E402

from billing.models import Invoice  # noqa: E402
from billing.pricing import Coverage  # noqa: E402
from billing.services import LineInput, invoice_draft, invoice_issue, issuer_for  # noqa: E402
from core import tenancy  # noqa: E402
from core.accounts.selectors import actor_for  # noqa: E402
from core.accounts.services import person_create  # noqa: E402
from core.practices.services import practice_create  # noqa: E402
from records.models import Patient  # noqa: E402

ISSUERS = int(sys.argv[1])
FAILING = int(sys.argv[2])


class Abort(Exception):
    """Makes a transaction roll back after it took a number."""


def main() -> None:
    practice = practice_create(slug="concurrence", name="Cabinet Concurrence")
    with tenancy.practice_context(practice.pk):
        gp = person_create(
            username="gp.concurrence",
            full_name="Dr Concurrence",
            password=None,
            practice=practice,
            roles=("practitioner",),
            check_password=False,
        )
        patient = Patient.objects.create(
            practice=practice,
            birth_name="Test",
            given_names="Jean",
            sex="M",
            birth_date=date(1970, 1, 1),
            gp=gp,
        )
    issuer = issuer_for(gp)
    drafts = []
    for _ in range(ISSUERS + FAILING):
        with tenancy.practice_context(practice.pk, gp.pk):
            actor = actor_for(gp, practice.pk)
            drafts.append(
                invoice_draft(
                    actor=actor,
                    issuer=issuer,
                    patient_id=patient.pk,
                    birth_date=patient.birth_date,
                    service_date=date(2025, 3, 10),
                    lines=[LineInput("G")],
                    coverage=Coverage(),
                ).pk
            )
    barrier = threading.Barrier(len(drafts))
    errors: list[str] = []

    def issue(draft_id: int, fail: bool) -> None:
        try:
            barrier.wait()
            with tenancy.practice_context(practice.pk, gp.pk):
                actor = actor_for(gp, practice.pk)
                with transaction.atomic():
                    invoice_issue(actor=actor, invoice=Invoice.objects.get(pk=draft_id))
                    if fail:
                        raise Abort
        except Abort:
            pass
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=issue, args=(pk, index < FAILING))
        for index, pk in enumerate(drafts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tenancy.practice_context(practice.pk):
        issued = list(Invoice.objects.filter(status="issued").values_list("number", "reference"))
        drafts_left = Invoice.objects.filter(status="draft").count()
    print(json.dumps({"issued": issued, "drafts_left": drafts_left, "errors": errors}))


if __name__ == "__main__":
    main()
