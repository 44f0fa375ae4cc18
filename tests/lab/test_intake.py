"""Receiving laboratory files: the samples filed with every result, imported once; an
HL7 ORU^R01 the same way; nothing filed on an uncertain identity (homonyms, no match, a
NIR that disagrees, a patient who excluded their GP) — it waits for a person, who
matches it; broken files refused with the original kept; every step audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.access import choices
from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from lab import services
from lab.models import FileStatus, LabFile
from records.models import CareTeamMember, Document, Observation
from tests.factories import PatientFactory
from tests.fixtures import World
from tests.lab.test_parsing import DATA, oru


def hprim(family: str, given: str, birth: date, nir: str = "", lines: str = "") -> bytes:
    """An HPRIM Santé message for this identity (twelve header lines, a LAB block)."""
    header = [
        "000123",
        family,
        given,
        "",
        "",
        "69003 LYON",
        birth.strftime("%d/%m/%Y"),
        f"{nir[:13]} {nir[13:]}" if nir else "",
        "R-42",
        "02/12/2026",
        "LBM des Tilleuls",
        "DR ARNAUD",
    ]
    block = (
        lines or "RES|GLYCEMIE|GLU|N|1.30|g/L|0.74|1.06|H|F\nRES|SODIUM|NA|N|140|mmol/L|136|145|N|F"
    )
    return (
        "\n".join(header) + "\nBilan du 02/12/2026\n****LAB****\n" + block + "\n****FIN****\n"
    ).encode("iso-8859-1")


def observations() -> int:
    return Observation.objects.count()


def paul_file(world: World) -> bytes:
    paul = world.paul
    return hprim(paul.birth_name.upper(), paul.given_names.upper(), paul.birth_date, paul.nir)


def test_the_sample_is_filed_with_every_result_and_a_second_import_changes_nothing(
    world: World,
) -> None:
    sam = world.actor(world.sam)
    patient = PatientFactory(
        practice=world.practice_a,
        gp=world.alice,
        birth_name="Newfake",
        given_names="Gloubgloub",
        sex="M",
        birth_date=date(1959, 3, 10),
        nir="",
    )
    raw = (DATA / "hprim_freehealth_tst_hprim_test2.hpr").read_bytes()
    received = services.receive(
        actor=sam, practice_id=world.practice_a.pk, raw=raw, filename="t2.hpr"
    )
    assert not received.already
    lab_file = received.file
    assert lab_file.status == FileStatus.FILED and lab_file.patient_id == patient.pk
    results = {o.code: o for o in Observation.objects.filter(patient=patient)}
    assert len(results) == 33 == lab_file.result_count
    potassium = results["K33"]
    assert (potassium.value, potassium.unit, potassium.reference_low, potassium.reference_high) == (
        Decimal("5.000"),
        "mEq/l",
        Decimal("3.500"),
        Decimal("4.800"),
    )
    assert potassium.flag == "high" and not potassium.reviewed
    assert potassium.author_id == world.alice.pk  # the GP of record's, unread
    report = Document.objects.get(pk=lab_file.report_id)
    assert report.kind == Document.Kind.RESULT and "HEMOGRAMME" in report.body
    assert bytes(lab_file.original) == raw
    before = (observations(), LabFile.objects.count(), Document.objects.count())
    again = services.receive(
        actor=sam, practice_id=world.practice_a.pk, raw=raw, filename="copy.hpr"
    )
    assert again.already and again.file.pk == lab_file.pk
    assert (observations(), LabFile.objects.count(), Document.objects.count()) == before
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"lab_file.receive", "lab_result.file"} <= actions


def test_an_hl7_oru_r01_is_filed_the_same_way_and_once_by_its_message_id(world: World) -> None:
    alice = world.actor(world.alice)
    paul = world.paul
    message = oru(
        name=f"{paul.birth_name}^{paul.given_names}",
        birth=paul.birth_date.strftime("%Y%m%d"),
        nir=f"{paul.nir}^^^INS-NIR",
        sex=paul.sex,
    )
    received = services.receive(actor=alice, practice_id=world.practice_a.pk, raw=message.encode())
    assert received.file.status == FileStatus.FILED and received.file.patient_id == paul.pk
    codes = set(Observation.objects.filter(patient=paul).values_list("code", "code_system"))
    assert codes == {("2345-7", "LN"), ("718-7", "LN"), ("5196-1", "LN")}
    # The same message sent again with another line ending is the same message.
    again = services.receive(
        actor=alice, practice_id=world.practice_a.pk, raw=message.replace("\r", "\n").encode()
    )
    assert again.already and Observation.objects.filter(patient=paul).count() == 3


def test_a_file_with_no_identity_waits_and_a_person_matches_it(world: World) -> None:
    sam = world.actor(world.sam)
    raw = (DATA / "hprim_hprimtool_fixture_pipes.hpr").read_bytes()
    lab_file = services.receive(actor=sam, practice_id=world.practice_a.pk, raw=raw).file
    assert lab_file.status == FileStatus.TO_MATCH and lab_file.reason_code == "no_identity"
    assert observations() == 0
    services.match(actor=sam, lab_file_id=lab_file.pk, patient_id=world.paul.pk)
    lab_file.refresh_from_db()
    assert lab_file.status == FileStatus.FILED and lab_file.matched_by_id == world.sam.pk
    assert Observation.objects.filter(patient=world.paul).count() == 5
    event = AuditEvent.objects.get(action="lab_file.match")
    assert event.patient_id == world.paul.pk and event.actor_id == world.sam.pk
    with pytest.raises(ValidationError):  # filed once, not twice
        services.match(actor=sam, lab_file_id=lab_file.pk, patient_id=world.paul.pk)


def test_homonyms_none_and_a_disagreeing_nir_all_wait_for_a_person(world: World) -> None:
    sam = world.actor(world.sam)
    twin = {
        "birth_name": "Durand",
        "given_names": "Marie",
        "birth_date": date(1980, 1, 2),
        "sex": "F",
    }
    PatientFactory(practice=world.practice_a, gp=world.alice, **twin)
    PatientFactory(practice=world.practice_a, gp=world.bob, **twin)
    cases = {
        "several": hprim("DURAND", "MARIE", date(1980, 1, 2)),
        "none": hprim("INCONNU", "PAUL", date(1990, 1, 1)),
        "nir_disagrees": hprim(
            world.paul.birth_name, world.paul.given_names, world.paul.birth_date, "2" * 15
        ),
    }
    for code, raw in cases.items():
        lab_file = services.receive(actor=sam, practice_id=world.practice_a.pk, raw=raw).file
        assert (lab_file.status, lab_file.reason_code) == (FileStatus.TO_MATCH, code), code
    assert observations() == 0


def test_a_patient_who_excluded_their_gp_is_not_filed_to_that_gp(world: World) -> None:
    choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        person_id=world.alice.pk,
        source="formulaire signé n° 12",
    )
    lab_file = services.receive(
        actor=world.actor(world.sam), practice_id=world.practice_a.pk, raw=paul_file(world)
    ).file
    assert (lab_file.status, lab_file.reason_code) == (FileStatus.TO_MATCH, "practitioner_refused")
    assert observations() == 0
    with pytest.raises(AccessDenied):
        services.match(
            actor=world.actor(world.sam),
            lab_file_id=lab_file.pk,
            patient_id=world.paul.pk,
            practitioner_id=world.alice.pk,
        )
    assert observations() == 0
    # The desk files it for Bob, whom the patient sees too.
    CareTeamMember.objects.create(
        practice=world.practice_a, patient=world.paul, person_id=world.bob.pk
    )
    services.match(
        actor=world.actor(world.sam),
        lab_file_id=lab_file.pk,
        patient_id=world.paul.pk,
        practitioner_id=world.bob.pk,
    )
    assert Observation.objects.filter(patient=world.paul, author=world.bob).count() == 2


def test_another_practice_neither_finds_the_patient_nor_the_file(world: World) -> None:
    mine = services.receive(
        actor=world.actor(world.sam),
        practice_id=world.practice_a.pk,
        raw=(DATA / "hprim_hprimtool_fixture_tags.hpr").read_bytes(),
    ).file
    charlie = world.actor(world.charlie, world.practice_b)
    theirs = services.receive(
        actor=charlie, practice_id=world.practice_b.pk, raw=paul_file(world)
    ).file
    assert (theirs.status, theirs.reason_code) == (FileStatus.TO_MATCH, "none")
    with pytest.raises(ValidationError):
        services.match(actor=charlie, lab_file_id=mine.pk, patient_id=world.zoe.pk)
    with pytest.raises(ValidationError):
        services.match(actor=charlie, lab_file_id=theirs.pk, patient_id=world.paul.pk)
    assert observations() == 0


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_broken_file_is_refused_with_its_reason_and_kept(world: World, language: str) -> None:
    sam = world.actor(world.sam)
    raw = (DATA / "hprim_freehealth_tst_hprim_test2.hpr").read_bytes()[:3000]
    with translation.override(language):
        lab_file = services.receive(actor=sam, practice_id=world.practice_a.pk, raw=raw).file
    assert lab_file.status == FileStatus.REFUSED and lab_file.reason_code == "truncated"
    expected = {"fr": "tronqué", "en": "cut short"}[language]
    assert expected in lab_file.reason
    assert bytes(lab_file.original) == raw
    assert observations() == 0 and Document.objects.count() == 0


def test_hiv_sti_and_pregnancy_tests_are_filed_with_their_sensitivity_label(
    world: World,
) -> None:
    """Hidden by default from everyone but the practitioner they are for: Bob, in the
    care team, sees the glucose of the same report, not the HIV nor the hCG result."""
    from lab.services import report_open

    lines = "\n".join(
        [
            "RES|GLYCEMIE|GLU|N|0.95|g/L|0.70|1.10|N|F",
            "RES|SEROLOGIE VIH 1+2 (Ac + Ag p24)|VIH|A|Négatif||||N|F",
            "RES|BETA HCG PLASMATIQUE|HCG|N|2|UI/L||5|N|F",
        ]
    )
    paul = world.paul
    raw = hprim(paul.birth_name, paul.given_names, paul.birth_date, paul.nir, lines)
    lab_file = services.receive(
        actor=world.actor(world.sam), practice_id=world.practice_a.pk, raw=raw
    ).file
    labels = dict(Observation.objects.filter(patient=paul).values_list("code", "sensitivity"))
    assert labels == {"GLU": "", "VIH": "hiv_sti", "HCG": "sexual_reproductive"}
    assert Document.objects.get(pk=lab_file.report_id).sensitivity == "hiv_sti"
    CareTeamMember.objects.create(practice=world.practice_a, patient=paul, person_id=world.bob.pk)
    _file, seen_by_bob = report_open(actor=world.actor(world.bob), lab_file_id=lab_file.pk)
    assert [line.code for line in seen_by_bob.lines] == ["GLU"] and seen_by_bob.hidden == 2
    assert seen_by_bob.text == ""  # the laboratory's report holds the HIV result too
    _file, seen_by_alice = report_open(actor=world.actor(world.alice), lab_file_id=lab_file.pk)
    assert [line.code for line in seen_by_alice.lines] == ["GLU", "VIH", "HCG"]
    assert "Bilan" in seen_by_alice.text


def test_a_file_of_several_patients_is_received_message_by_message(world: World) -> None:
    """A laboratory's day in one HPRIM file: Paul's results are filed, a misspelt
    patient's wait for a person, and a message cut short at the end is refused — each
    on its own; the file received again changes nothing."""
    paul = world.paul
    mine = hprim(paul.birth_name, paul.given_names, paul.birth_date, paul.nir)
    misspelt = hprim("DUPOND", "PAUL", paul.birth_date, "")
    cut = hprim("MARTIN", "JEANNE", paul.birth_date, "")[:-20]
    raw = mine + misspelt + cut + b"****FINFICHIER****\n"
    sam = world.actor(world.sam)
    received = services.receive_file(
        actor=sam, practice_id=world.practice_a.pk, raw=raw, filename="jour.hpr"
    )
    assert [(r.file.filename, r.file.status) for r in received] == [
        ("jour.hpr (1/3)", FileStatus.FILED),
        ("jour.hpr (2/3)", FileStatus.TO_MATCH),
        ("jour.hpr (3/3)", FileStatus.REFUSED),
    ]
    assert Observation.objects.filter(patient=paul).count() == 2
    again = services.receive_file(actor=sam, practice_id=world.practice_a.pk, raw=raw)
    assert all(r.already for r in again) and LabFile.objects.count() == 3
