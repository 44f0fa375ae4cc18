"""The demo practice: every role, valid patients, credentials written, re-run keeps data."""

from __future__ import annotations

import json

from django.core.management import call_command

from core import tenancy
from core.accounts import services as accounts
from core.practices.models import CareTeamMode, Practice
from records import nir
from records.models import Patient
from tests.billing.conftest import fee_schedules  # noqa: F401 - the fee files, loaded once


def test_demo_data_is_complete_and_kept_on_a_rerun(
    db: None,
    settings,
    tmp_path,
    capsys,
    fee_schedules: None,  # noqa: F811 - as `make demo` loads them first
) -> None:
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

    # A month of documentation time for Dr Martin, for the report.
    from records.models import DocumentationAct

    acts = DocumentationAct.objects.filter(practitioner__username="claire.martin")
    month_ago = timezone.now() - timedelta(days=30)
    assert acts.filter(saved_at__gte=month_ago).count() > 200
    acts_count = acts.count()

    # Laboratory results: four reports waiting for Dr Martin (abnormal ones first, the
    # glucose with two earlier reports for its trend), one for the desk to match, one
    # refused.
    from core.accounts.models import Person
    from core.accounts.selectors import actor_for
    from lab.models import FileStatus, LabFile
    from lab.selectors import to_read

    claire = actor_for(Person.objects.get(username="claire.martin"), practice.pk)
    waiting = to_read(claire)
    assert len(waiting) == 4 and [row.abnormal_count > 0 for row in waiting] == [
        True,
        True,
        True,
        False,
    ]
    assert LabFile.objects.filter(status=FileStatus.TO_MATCH).count() == 1
    assert LabFile.objects.filter(status=FileStatus.REFUSED).count() == 1
    lab_files = LabFile.objects.count()

    # The practice's own price of a non-reimbursed act, the desk printer's calibration,
    # a nurse's home visit billed, an application to join waiting for the cooperative.
    from decimal import Decimal

    from billing.models import InvoiceLine, PracticeTariff, PrinterOffset
    from core.practices.models import MembershipApplication

    tariff = PracticeTariff.objects.get(practice=practice, code="CNCI")
    assert (tariff.amount, tariff.amo_rate, tariff.valid_to) == (Decimal("25.00"), 0, None)
    printer = PrinterOffset.objects.get(practice=practice, printer="Accueil")
    assert (printer.x_mm, printer.y_mm) == (Decimal("1.5"), Decimal("-1.0"))
    visit = InvoiceLine.objects.filter(
        invoice__issuer__person__username="lucie.garnier", invoice__status="issued"
    )
    assert sorted(visit.values_list("code", "coefficient", "quantity")) == [
        ("AMI", 4, 1),
        ("IFD", 1, 1),
        ("IK", 1, 12),
    ]
    (application,) = MembershipApplication.objects.filter(status="pending")
    assert application.practice_name == "Cabinet infirmier du Parc"
    assert [p.profession for p in application.practitioners.all()] == ["nurse", "nurse"]
    # No Belgian practice in the demo: nobody has an INAMI number.
    assert not Practice.objects.filter(country="BE").exists()
    assert not Person.objects.exclude(inami="").exists()
    # Last month's dues of the member practice, issued by the cooperative.
    from billing.models import Invoice

    (dues,) = Invoice.objects.filter(practice=practice, kind="dues", status="issued")
    assert dues.service_date == (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(
        day=1
    )
    invoices = InvoiceLine.objects.count()

    call_command("demo_data", "--patients", "12")
    tenancy.activate(practice.pk)
    assert Appointment.objects.count() == count
    assert DocumentationAct.objects.count() == acts_count  # nothing added twice
    assert LabFile.objects.count() == lab_files
    assert InvoiceLine.objects.count() == invoices
    assert PracticeTariff.objects.count() == 1 and PrinterOffset.objects.count() == 1
    assert MembershipApplication.objects.count() == 1
    again = json.loads((tmp_path / "demo-credentials.json").read_text())
    tenancy.activate(practice.pk)
    assert Patient.objects.count() == 12
    assert again["api_token"]["token"] == credentials["api_token"]["token"]
    assert [a["totp_secret"] for a in again["accounts"]] == [
        a["totp_secret"] for a in credentials["accounts"]
    ]


def test_the_demo_has_a_patient_to_try_the_safety_checks_beside_the_agenda(
    db: None, settings, tmp_path
) -> None:
    """With the reference loaded (as ``make demo`` does), Odile Vernet is allergic to the
    penicillins (ATC J01C) and on warfarin: amoxicillin blocks, ibuprofen warns. The
    GPs have their Assurance Maladie number and the practice its phone, for the
    ordonnance; the agenda is filled as well."""
    from decimal import Decimal

    from agenda.models import Appointment
    from core.accounts.models import Person
    from core.accounts.selectors import actor_for
    from records import compositions, reference, safety
    from records import services as records
    from records.access import access_for
    from records.models import Allergy, PrescriptionItem
    from tests.fixtures import as_owner

    with as_owner():  # the reference tables are written by the owner role only
        reference.load_drugs(reference.DEFAULT_DRUGS_FILE)
        compositions.load_all()
    settings.VAR_DIR = tmp_path
    call_command("demo_data", "--patients", "6")

    practice = Practice.objects.get(slug="msp-des-tilleuls")
    assert practice.phone
    claire = Person.objects.get(username="claire.martin")
    assert claire.am_number
    tenancy.activate_then(practice.pk, claire.pk, care_team_mode=practice.care_team_mode)
    odile = Patient.objects.get(birth_name="Vernet", given_names="Odile")
    assert Allergy.objects.get(patient=odile).atc_class == "J01C"
    assert PrescriptionItem.objects.get(prescription__patient=odile).dci.startswith("WARFARINE")
    assert Appointment.objects.exists()

    actor = actor_for(claire, practice.pk)

    def alerts(cis: str) -> list[safety.Alert]:
        (found,) = records.prescription_check(
            actor=actor,
            access=access_for(odile),
            items=[
                records.ItemInput(
                    drug_cis=cis,
                    dose_quantity=Decimal(1),
                    dose_unit="comprimé",
                    frequency=2,
                    duration_days=7,
                )
            ],
        )
        return found

    assert safety.blocking(alerts("66082724"))  # AMOXICILLINE ARROW 500 mg: the allergy
    advil = alerts("68634000")  # ADVIL 200 mg with warfarin: association déconseillée
    assert ("AD", safety.Severity.WARNING) in [(a.level, a.severity) for a in advil]
    assert not safety.blocking(advil)
