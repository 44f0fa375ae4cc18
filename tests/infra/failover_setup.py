"""Run by test_failover.py on the deployed node (Carnet's Python, the node's settings, the
application role): a practice of its own for the drill, one general practitioner with
personal API tokens, and a few patients whose GP of record she is (so she is in their
care team and may write their consultations). Prints JSON on its last line.

    python failover_setup.py PATIENTS TOKENS
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
django.setup()

from core import tenancy  # noqa: E402
from core.accounts import services as accounts  # noqa: E402
from core.accounts.models import Role  # noqa: E402
from core.accounts.selectors import actor_for  # noqa: E402
from core.practices.services import onboarding  # noqa: E402
from records import services as records  # noqa: E402

SLUG = "cabinet-des-acacias"
PRACTITIONER = "camille.roche"
GIVEN_NAMES = ["Jeanne", "Louis", "Margot", "Étienne", "Inès", "Bastien", "Léa", "Noé"]


def setup(patients: int, tokens: int) -> dict[str, Any]:
    onboarded = onboarding.practice_onboard(
        practice=onboarding.NewPractice(
            slug=SLUG, name="Cabinet des Acacias", city="Lyon", postal_code="69003"
        ),
        people=[
            onboarding.NewPerson(
                username=PRACTITIONER,
                full_name="Dr Camille Roche",
                roles=(Role.PRACTITIONER,),
                profession="gp",
            )
        ],
    )
    practice, gp = onboarded.practice, onboarded.people[0]
    with tenancy.practice_context(practice.pk):
        tenancy.activate(practice.pk, gp.pk)
        actor = actor_for(gp, practice.pk)
        patient_ids = [
            records.patient_create(
                actor=actor,
                birth_name=f"Bascule{chr(ord('A') + n)}",
                given_names=GIVEN_NAMES[n % len(GIVEN_NAMES)],
                sex="F" if n % 2 == 0 else "M",
                birth_date=date(1950 + 3 * n, 1 + n % 12, 1 + n),
                gp_id=gp.pk,
                confirm_not_duplicate=True,
            ).pk
            for n in range(patients)
        ]
        plaintexts = [
            accounts.api_token_create(person=gp, practice=practice, name=f"failover-{n}")[1]
            for n in range(tokens)
        ]
    return {
        "practice": practice.pk,
        "slug": practice.slug,
        "practitioner": gp.pk,
        "tokens": plaintexts,
        "patients": patient_ids,
    }


if __name__ == "__main__":
    print(json.dumps(setup(int(sys.argv[1]), int(sys.argv[2]))))
