"""The demo practice: every role, valid patients, credentials written, re-run keeps data."""

from __future__ import annotations

import json

from django.core.management import call_command

from core import tenancy
from core.accounts import services as accounts
from core.practices.models import CareTeamMode, Practice
from records import nir
from records.models import Patient


def test_demo_data_is_complete_and_kept_on_a_rerun(db: None, settings, tmp_path, capsys) -> None:
    settings.VAR_DIR = tmp_path
    call_command("demo_data", "--patients", "12")
    output = capsys.readouterr().out
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert credentials["practice"]["slug"] == "msp-des-tilleuls"
    roles = {role for account in credentials["accounts"] for role in account["roles"]}
    assert roles == {
        "practitioner",
        "practice_admin",
        "secretary",
        "cooperative_admin",
        "node_admin",
    }
    assert all(len(account["totp_secret"]) == 32 for account in credentials["accounts"])
    assert credentials["api_token"]["token"] in output
    assert accounts.api_token_authenticate(credentials["api_token"]["token"]) is not None

    practice = Practice.objects.get(slug="msp-des-tilleuls")
    # A maison de santé: every clinician is in every patient's care team (the usual case).
    assert practice.care_team_mode == CareTeamMode.PRACTICE
    tenancy.activate(practice.pk)
    patients = list(Patient.objects.all())
    assert len(patients) == 12
    for patient in patients:
        nir.check_coherence(nir.parse(patient.nir), sex=patient.sex, birth_date=patient.birth_date)

    # A week of appointments for every clinician, someone waiting, a nurse round series.
    from datetime import timedelta

    from django.utils import timezone

    from agenda.models import Appointment, Status

    appointments = Appointment.objects.all()
    week = timezone.now() + timedelta(days=7)
    assert appointments.filter(starts_at__lte=week).values("practitioner").distinct().count() == 4
    assert appointments.filter(starts_at__lte=week).count() > 100
    assert appointments.filter(status=Status.ARRIVED).count() == 3
    assert appointments.filter(series__isnull=False).count() == 8
    count = appointments.count()

    call_command("demo_data", "--patients", "12")
    tenancy.activate(practice.pk)
    assert Appointment.objects.count() == count
    again = json.loads((tmp_path / "demo-credentials.json").read_text())
    tenancy.activate(practice.pk)
    assert Patient.objects.count() == 12
    assert again["api_token"]["token"] == credentials["api_token"]["token"]
    assert [a["totp_secret"] for a in again["accounts"]] == [
        a["totp_secret"] for a in credentials["accounts"]
    ]
