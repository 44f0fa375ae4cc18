"""The documentation-time report: a practitioner's month (page, PDF with its plots, CSV
safe for spreadsheets), nobody else's figures unless shared, nothing for the desk, the
practice's totals for its administrators."""

from __future__ import annotations

import csv
import io
import subprocess
import tempfile
from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core import tenancy
from records import services as records
from records.access import access_for
from records.models import ActKind, CareTeamMember, DocumentationAct
from records.selectors.care_time import care_time_report
from records.services import care_time
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login

MONTH = date(2026, 10, 1)
PLAN = [
    # (day, kind, minutes)
    (5, ActKind.CONSULTATION, 12),
    (5, ActKind.PRESCRIPTION, 3),
    (6, ActKind.CONSULTATION, 15),
    (6, ActKind.LETTER, 9),
    (7, ActKind.CERTIFICATE, 4),
    (7, ActKind.INVOICE, 2),
    (8, ActKind.LAB_RESULT, 5),
    (8, ActKind.PROBLEM, 1),
]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    zone = timezone.get_default_timezone()
    return datetime(MONTH.year, MONTH.month, day, hour, minute, tzinfo=zone)


def a_month_of_acts(world: World) -> None:
    actor = world.actor(world.alice)
    for index, (day, kind, minutes) in enumerate(PLAN):
        opened = at(day, 9 + index % 3)
        token = care_time.act_open(actor=actor, kind=kind, patient_id=world.paul.pk, now=opened)
        care_time.act_record(
            actor=actor,
            kind=kind,
            token=token,
            patient_id=world.paul.pk,
            now=opened + timedelta(minutes=minutes),
        )
    # Earlier months, for the trend; and a declared time, never in the measured totals.
    for months_back in (1, 2, 3):
        opened = at(10, 10) - timedelta(days=31 * months_back)
        token = care_time.act_open(
            actor=actor, kind=ActKind.CONSULTATION, patient_id=world.paul.pk, now=opened
        )
        care_time.act_record(
            actor=actor,
            kind=ActKind.CONSULTATION,
            token=token,
            patient_id=world.paul.pk,
            now=opened + timedelta(minutes=10 + months_back),
        )
    care_time.act_record(
        actor=actor,
        kind=ActKind.CONSULTATION,
        patient_id=world.paul.pk,
        declared_seconds=3600,
        source=DocumentationAct.Source.API,
        now=at(9, 11),
    )
    tenancy.activate(None)


def page(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/rapport/temps/{rest}"


def test_the_totals_by_kind_are_the_sum_of_the_acts(world: World) -> None:
    a_month_of_acts(world)
    actor = world.actor(world.alice)
    report = care_time_report(actor=actor, practitioner_id=world.alice.pk, month=MONTH)
    expected: dict[str, int] = {}
    for _day, kind, minutes in PLAN:
        expected[kind] = expected.get(kind, 0) + minutes * 60
    got = {line.kind: line.measured_seconds for line in report.kinds if line.measured_seconds}
    assert got == expected
    assert report.measured_seconds == sum(m for _d, _k, m in PLAN) * 60
    assert report.declared_seconds == 3600  # apart, never in the measured total
    consultation = next(line for line in report.kinds if line.kind == ActKind.CONSULTATION)
    assert (consultation.acts, consultation.unmeasured) == (3, 1)
    assert report.patients_seen == 1
    assert report.share_percent is not None and 0 < report.share_percent <= 100
    assert [p.key for p in report.trends] == ["care-hours", "care-per-note"]


def test_the_page_pdf_and_csv_of_a_month(client: Client, world: World) -> None:
    world.alice.full_name = '=HYPERLINK("http://x")'
    world.alice.save()
    a_month_of_acts(world)
    alice = login(client, world.alice)
    response = alice.get(page(world, "?mois=2026-10"))
    assert response.status_code == 200
    html = response.content.decode()
    total = f"{sum(m for _d, _k, m in PLAN):.1f}".replace(".", ",")
    assert f'data-testid="total">{total}<' in html
    assert 'data-testid="care-hours-plot"' in html and "<polyline" in html
    assert "Temps de saisie" in html and "Partager mes chiffres" in html

    pdf = alice.get(page(world, "?mois=2026-10&format=pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf.content)
        file.flush()
        text = subprocess.run(
            ["/usr/bin/pdftotext", "-layout", file.name, "-"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    assert "Temps de saisie" in text
    assert "Heures de documentation par mois" in text  # the plot's caption
    assert "Minutes par note de consultation" in text
    assert total in text

    exported = alice.get(page(world, "?mois=2026-10&format=csv"))
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Praticien"
    names = {row[0] for row in rows[1:]}
    assert names == {'\'=HYPERLINK("http://x")'}  # never a formula
    by_kind = {row[2]: row[4] for row in rows[1:]}
    assert by_kind["Note de consultation"] == "27,0"


def test_another_practitioner_sees_nothing_unless_shared(client: Client, world: World) -> None:
    a_month_of_acts(world)
    bob = login(Client(), world.bob)
    refused = bob.get(page(world, f"?mois=2026-10&praticien={world.alice.pk}"))
    assert refused.status_code == 403
    own = bob.get(page(world, "?mois=2026-10"))
    assert own.status_code == 200 and "Dr Bob Blanc" in own.content.decode()
    assert "Dr Alice Arnaud" not in own.content.decode()

    alice = login(client, world.alice)
    assert alice.post(page(world, "partage/"), {"shared": "1"}).status_code == 302
    shared = bob.get(page(world, f"?mois=2026-10&praticien={world.alice.pk}"))
    assert shared.status_code == 200 and "Dr Alice Arnaud" in shared.content.decode()
    assert alice.post(page(world, "partage/"), {"shared": "0"}).status_code == 302
    again = bob.get(page(world, f"?mois=2026-10&praticien={world.alice.pk}"))
    assert again.status_code == 403


def test_a_practitioner_of_another_practice_sees_nothing(world: World) -> None:
    a_month_of_acts(world)
    charlie = login(Client(), world.charlie)
    response = charlie.get(page(world, f"?mois=2026-10&praticien={world.alice.pk}"))
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("rest", ["?mois=2026-10", "cabinet/?mois=2026-10"])
def test_a_secretary_sees_nothing(client: Client, world: World, rest: str) -> None:
    a_month_of_acts(world)
    sam = login(client, world.sam)
    assert sam.get(page(world, rest)).status_code == 403
    assert sam.get(page(world, rest + f"&praticien={world.alice.pk}")).status_code == 403
    assert sam.post(page(world, "partage/"), {"shared": "1"}).status_code == 403


def test_the_practice_admin_sees_the_totals_only(client: Client, world: World) -> None:
    a_month_of_acts(world)
    tenancy.activate(world.practice_a.pk)
    admin = PersonFactory(username="ada", full_name="Ada Admin")
    MembershipFactory(practice=world.practice_a, person=admin, role="practice_admin")
    tenancy.activate(None)
    ada = login(client, admin)
    summary = ada.get(page(world, "cabinet/?mois=2026-10"))
    assert summary.status_code == 200
    html = summary.content.decode()
    total = f"{sum(m for _d, _k, m in PLAN):.1f}".replace(".", ",")
    assert f'data-testid="total">{total}<' in html
    assert "Dr Alice Arnaud" not in html
    assert ada.get(page(world, f"?mois=2026-10&praticien={world.alice.pk}")).status_code == 403


def test_the_monthly_care_work_page_hides_a_colleagues_time_unless_shared(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_a.pk)
    # Bob writes in Paul's record as a member of his care team.
    CareTeamMember.objects.get_or_create(
        practice=world.practice_a, patient=world.paul, person=world.bob
    )
    bob_actor = world.actor(world.bob)
    records.consultation_record(
        actor=bob_actor, access=access_for(world.paul), reason="Suivi", documentation_seconds=1260
    )
    tenancy.activate(None)
    alice = login(client, world.alice)
    month = timezone.localdate().strftime("%Y-%m")
    html = alice.get(f"/p/{world.practice_a.slug}/rapport/saisie/?mois={month}").content.decode()
    bob_row = html.split("Dr Bob Blanc", 1)[1].split("</tr>", 1)[0]
    assert "0 h 21" not in bob_row and "—" in bob_row
    bob = login(Client(), world.bob)
    bob.post(page(world, "partage/"), {"shared": "1"})
    html = alice.get(f"/p/{world.practice_a.slug}/rapport/saisie/?mois={month}").content.decode()
    assert "0 h 21" in html.split("Dr Bob Blanc", 1)[1].split("</tr>", 1)[0]
