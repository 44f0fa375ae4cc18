"""The results pages: the GP's "to read" list (abnormal first), a report opened (marked
read) with its values, ranges, flags and the trend of a repeated analysis, signed off
with a note; the desk receives files and matches them on identity alone, never seeing a
value; another practitioner, a secretary and another practice are refused; the results
nobody read after three days are shown to the practice's administrators only."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core import tenancy
from core.audit.models import AuditEvent
from lab import services
from lab.models import FileStatus, LabFile
from records.models import Observation
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.lab.test_intake import hprim
from tests.records.test_views import login

GLUCOSE_HIGH = "RES|GLYCEMIE|GLU|N|1.30|g/L|0.74|1.06|H|F\nRES|SODIUM|NA|N|140|mmol/L|136|145|N|F"
NORMAL = "RES|POTASSIUM|K|N|4.1|mmol/L|3.5|4.8|N|F"


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/resultats/{rest}"


def receive_for_paul(world: World, lines: str, exam: str = "02/12/2026") -> LabFile:
    paul = world.paul
    raw = hprim(paul.birth_name, paul.given_names, paul.birth_date, paul.nir, lines)
    raw = raw.replace(b"02/12/2026", exam.encode())
    lab_file = services.receive(
        actor=world.actor(world.sam), practice_id=world.practice_a.pk, raw=raw
    ).file
    tenancy.activate(None)
    assert lab_file.status == FileStatus.FILED
    return lab_file


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def test_the_gp_reads_abnormal_first_opens_one_sees_the_trend_and_signs_it_off(
    client: Client, world: World
) -> None:
    normal = receive_for_paul(world, NORMAL, exam="01/12/2026")
    earlier = receive_for_paul(world, GLUCOSE_HIGH.replace("1.30", "1.12"), exam="01/06/2026")
    abnormal = receive_for_paul(world, GLUCOSE_HIGH)
    alice = login(client, world.alice)
    listing = page(alice, url(world))
    order = [listing.index(f"/resultats/{f.pk}/") for f in (earlier, abnormal, normal)]
    assert order[0] < order[2] and order[1] < order[2]  # abnormal ones before the normal one
    report = page(alice, url(world, f"{abnormal.pk}/"))
    assert "1,3 g/L" in report and "0,74 – 1,06" in report and "haut" in report  # noqa: RUF001
    assert 'data-testid="lab-glu-plot"' in report  # the glucose measured twice
    abnormal.refresh_from_db()
    assert abnormal.read_at is not None
    refused = alice.post(url(world, f"{abnormal.pk}/"), {"conclusion": "review", "note": ""})
    assert refused.status_code == 400 and "Dites ce qui est à revoir" in unescape(
        refused.content.decode()
    )
    done = alice.post(
        url(world, f"{abnormal.pk}/"), {"conclusion": "review", "note": "Contrôle à 3 mois"}
    )
    assert done.status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert not Observation.objects.filter(report_id=abnormal.report_id, reviewed=False).exists()
    assert (
        AuditEvent.objects.filter(action="lab_result.sign_off", patient_id=world.paul.pk).count()
        == 1
    )
    tenancy.activate(None)
    assert f"/resultats/{abnormal.pk}/" not in page(alice, url(world))


def test_a_report_opened_by_another_reader_is_not_marked_read(client: Client, world: World) -> None:
    lab_file = receive_for_paul(world, GLUCOSE_HIGH)
    tenancy.activate(world.practice_a.pk)
    from records.models import CareTeamMember

    CareTeamMember.objects.create(
        practice=world.practice_a, patient=world.paul, person_id=world.bob.pk
    )
    tenancy.activate(None)
    page(login(client, world.bob), url(world, f"{lab_file.pk}/"))
    lab_file.refresh_from_db()
    assert lab_file.read_at is None  # still new for Alice, whose result it is


@pytest.mark.parametrize("who", ["sam", "bob"])
def test_a_secretary_and_a_practitioner_outside_the_team_cannot_open_a_report(
    client: Client, world: World, who: str
) -> None:
    lab_file = receive_for_paul(world, GLUCOSE_HIGH)
    person = {"sam": world.sam, "bob": world.bob}[who]
    browser = login(client, person)
    assert browser.get(url(world, f"{lab_file.pk}/")).status_code == 403
    assert browser.post(url(world, f"{lab_file.pk}/"), {"conclusion": "ras"}).status_code == 403
    assert f"/resultats/{lab_file.pk}/" not in page(browser, url(world))
    lab_file.refresh_from_db()
    assert lab_file.signed_off_at is None and lab_file.read_at is None


def test_another_practice_gets_a_404(client: Client, world: World) -> None:
    lab_file = receive_for_paul(world, GLUCOSE_HIGH)
    charlie = login(client, world.charlie)
    other = f"/p/{world.practice_b.slug}/resultats/{lab_file.pk}/"
    assert charlie.get(other).status_code == 404
    assert (
        charlie.get(f"/p/{world.practice_b.slug}/resultats/{lab_file.pk}/associer/").status_code
        == 404
    )


def test_the_desk_receives_a_file_and_matches_it_without_seeing_a_value(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    raw = hprim("DUPOND", "PAUL", world.paul.birth_date, "", GLUCOSE_HIGH)  # a typo: waits
    response = sam.post(url(world, "reception/"), {"file": SimpleUploadedFile("bilan.hpr", raw)})
    assert response.status_code == 302
    reception = page(sam, url(world, "reception/"))
    assert "DUPOND PAUL" in reception and "bilan.hpr" in reception
    lab_file = LabFile.objects.get(filename="bilan.hpr")
    matching = page(sam, url(world, f"{lab_file.pk}/associer/?q=dupont"))
    for value in ("GLYCEMIE", "1,30", "1.30", "g/L", "SODIUM"):
        assert value not in reception and value not in matching
    assert "DUPONT Paul" in matching
    done = sam.post(
        url(world, f"{lab_file.pk}/associer/"), {"patient": world.paul.pk, "practitioner": ""}
    )
    assert done.status_code == 302
    lab_file.refresh_from_db()
    assert lab_file.status == FileStatus.FILED and lab_file.practitioner_id == world.alice.pk


def test_bad_uploads_get_a_clear_answer_and_store_nothing_half_way(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    empty = sam.post(url(world, "reception/"), {})
    assert empty.status_code == 400
    big = SimpleUploadedFile("gros.hpr", b"x" * (2 * 1024 * 1024 + 1))
    too_big = sam.post(url(world, "reception/"), {"file": big})
    assert too_big.status_code == 400 and "2 Mo" in unescape(too_big.content.decode())
    assert LabFile.objects.count() == 0
    broken = sam.post(
        url(world, "reception/"),
        {"file": SimpleUploadedFile("lettre.txt", "Cher confrère".encode())},
        follow=True,
    )
    text = unescape(broken.content.decode())
    assert "refusé" in text and "ni un message HPRIM" in text
    tenancy.activate(world.practice_a.pk)
    assert LabFile.objects.get().status == FileStatus.REFUSED
    assert Observation.objects.count() == 0


def test_results_unread_after_three_days_are_shown_to_the_administrator_only(
    client: Client, world: World
) -> None:
    lab_file = receive_for_paul(world, GLUCOSE_HIGH)
    tenancy.activate(world.practice_a.pk)
    LabFile.objects.filter(pk=lab_file.pk).update(filed_at=timezone.now() - timedelta(days=4))
    admin = PersonFactory(username="anne", full_name="Anne Admin")
    MembershipFactory(practice=world.practice_a, person=admin, role="practice_admin")
    tenancy.activate(None)
    shown = page(login(client, admin), url(world, "reception/"))
    assert "Dr Alice Arnaud" in shown and "4 jours" in shown
    assert "GLYCEMIE" not in shown and "DUPONT" not in shown.upper().replace("DUPONT PAUL", "")
    client.logout()
    assert 'data-testid="overdue"' not in page(login(Client(), world.sam), url(world, "reception/"))


def test_the_chart_plots_an_analysis_measured_again(client: Client, world: World) -> None:
    receive_for_paul(world, GLUCOSE_HIGH.replace("1.30", "1.12"), exam="01/06/2026")
    chart = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/"
    alice = login(client, world.alice)
    assert 'data-testid="lab-trends"' not in page(alice, chart)  # measured once: no trend
    receive_for_paul(world, GLUCOSE_HIGH)
    shown = page(alice, chart)
    assert 'data-testid="lab-glu-plot"' in shown and "Évolution des résultats" in shown
    assert 'data-testid="lab-na-plot"' in shown  # the sodium too, measured twice


def test_the_matching_page_offers_the_patient_with_the_same_nir_first(
    client: Client, world: World
) -> None:
    """The laboratory wrote another name (a used name, a typo) but Paul's NIR: the page
    offers Paul first, marked, though the search by that name finds nobody."""
    paul = world.paul
    raw = hprim("ZZYZX", "QWERTY", paul.birth_date, paul.nir, GLUCOSE_HIGH)
    lab_file = services.receive(
        actor=world.actor(world.sam), practice_id=world.practice_a.pk, raw=raw
    ).file
    tenancy.activate(None)
    assert lab_file.reason_code == "nir_only"
    shown = page(login(client, world.sam), url(world, f"{lab_file.pk}/associer/"))
    table = shown.split('data-testid="candidates"', 1)[1]
    assert "DUPONT Paul" in table and "même NIR" in table
