"""Run by test_faults.py against the fault cluster's database (after `carnet demo_data`):
gives each of the demo practice's two GPs personal API tokens, and lists the patients
each one is GP of. Prints JSON."""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
django.setup()

from core import tenancy  # noqa: E402
from core.accounts import services as accounts  # noqa: E402
from core.accounts.models import Person  # noqa: E402
from core.practices.models import Practice  # noqa: E402
from records.models import Patient  # noqa: E402

TOKENS_PER_GP = int(sys.argv[1])


def main() -> None:
    practice = Practice.objects.get(slug="msp-des-tilleuls")
    out = []
    for username in ("claire.martin", "karim.benali"):
        with tenancy.practice_context(practice.pk):
            gp = Person.objects.get(username=username)
            tenancy.activate(practice.pk, gp.pk)
            tokens = [
                accounts.api_token_create(person=gp, practice=practice, name=f"faults-{n}")[1]
                for n in range(TOKENS_PER_GP)
            ]
            patients = list(
                Patient.objects.filter(gp=gp, deceased_on__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        out.append({"gp": gp.pk, "tokens": tokens, "patients": patients})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
