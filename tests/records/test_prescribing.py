"""Safe prescribing on the real reference data: the BDPM compositions, the ANSM
interaction thesaurus (September 2023) and the ATC codes, loaded once for the module.

The pairs are real thesaurus entries:
- warfarine (COUMADINE) + miconazole (DAKTARIN gel buccal): ANTIVITAMINES K +
  MICONAZOLE, contre-indication;
- warfarine + ibuprofène (ADVIL): ANTICOAGULANTS ORAUX + ANTI-INFLAMMATOIRES NON
  STÉROÏDIENS, association déconseillée;
- warfarine + paracétamol (DOLIPRANE): ANTIVITAMINES K + PARACETAMOL, précaution
  d'emploi;
- tramadol (TOPALGIC) + venlafaxine (EFFEXOR): TRAMADOL + VENLAFAXINE, à prendre en
  compte;
- simvastatine + clarithromycine: SIMVASTATINE + INHIBITEURS PUISSANTS DU CYP3A4
  (clarithromycine is in that class of the ANSM index), contre-indication;
- amoxicilline + paracétamol: no entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from pytest_django import DjangoDbBlocker

from core.audit.models import AuditEvent
from records import compositions, reference, safety, services
from records.access import access_for
from records.models import Allergy, Prescription, PrescriptionItem
from records.services import ItemInput, PrescriptionBlocked
from tests.fixtures import World, as_owner

AMOXICILLIN = "66082724"  # AMOXICILLINE ARROW 500 mg, gélule
AUGMENTIN = "63565244"  # amoxicilline + acide clavulanique (not in the thesaurus)
WARFARIN = "64631925"  # COUMADINE 2 mg
MICONAZOLE_GEL = "69184289"  # DAKTARIN 2 %, gel buccal
IBUPROFEN = "68634000"  # ADVIL 200 mg
PARACETAMOL = "60234100"  # DOLIPRANE 1000 mg
TRAMADOL = "63435884"  # TOPALGIC 50 mg
VENLAFAXINE = "61403425"  # EFFEXOR L.P. 75 mg
CLARITHROMYCIN = "60814021"  # CLARITHROMYCINE ARROW 500 mg
CODOLIPRANE = "60904643"  # paracétamol + codéine
BIMATOPROST = "66203859"  # LUMIGAN 0,1 mg/ml: not in the thesaurus


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    with django_db_blocker.unblock(), as_owner():
        reference.load_drugs(reference.DEFAULT_DRUGS_FILE)
        compositions.load_all()
    yield
    with django_db_blocker.unblock(), as_owner(), connection.cursor() as cursor:
        for table in (
            "records_drugcomponent",
            "records_substance",
            "records_interaction",
            "records_interactionclassmember",
            "records_atcclass",
            "records_drug",
        ):
            cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def ref(loaded: None, db: None) -> None:
    return None


def line(cis: str, **kwargs) -> ItemInput:
    values = {"dose_quantity": Decimal(1), "dose_unit": "comprimé", "frequency": 2}
    values.update(kwargs)
    return ItemInput(drug_cis=cis, duration_days=7, **values)


def prescribe(world: World, *cis: str, **kwargs) -> Prescription:
    actor = world.actor(world.alice)
    return services.prescription_create(
        actor=actor, access=access_for(world.paul), items=[line(c) for c in cis], **kwargs
    )


def alerts_for(world: World, cis: str) -> list[safety.Alert]:
    actor = world.actor(world.alice)
    (alerts,) = services.prescription_check(
        actor=actor, access=access_for(world.paul), items=[line(cis)]
    )
    return alerts


def kinds(alerts: list[safety.Alert]) -> list[tuple[str, str, safety.Severity]]:
    return [(a.kind, a.level, a.severity) for a in alerts if a.kind != "not_checked"]


def allergy(world: World, **fields) -> Allergy:
    actor = world.actor(world.alice)
    return services.entry_create(
        actor=actor, access=access_for(world.paul), model=Allergy, **fields
    )


# Loading ---------------------------------------------------------------------------------


def test_a_drug_gets_its_dci_and_substances(ref: None, world: World) -> None:
    world.actor(world.alice)
    from records.models import Drug, Substance

    assert Drug.objects.get(pk=AMOXICILLIN).dci == "AMOXICILLINE 500 mg, gélule"
    assert Drug.objects.get(pk=TRAMADOL).dci == "CHLORHYDRATE DE TRAMADOL 50 mg, gélule"
    # Every salt of amoxicillin is amoxicillin, and it is a penicillin (J01C).
    salts = Substance.objects.filter(moiety="amoxicilline")
    assert salts.count() >= 3
    assert {s.interaction_key for s in salts} == {"amoxicilline"}
    assert {s.atc for s in salts} == {"J01CA04"}


def test_the_application_role_cannot_change_the_thesaurus(ref: None, world: World) -> None:
    from django.db import ProgrammingError, transaction

    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE records_interaction SET level = 'APEC'")


# Interactions on real thesaurus pairs -------------------------------------------------------


def test_a_contraindication_blocks_and_says_why_and_what_to_do(ref: None, world: World) -> None:
    prescribe(world, WARFARIN)
    alerts = alerts_for(world, MICONAZOLE_GEL)
    (ci,) = [a for a in alerts if a.kind == "interaction"]
    assert (ci.level, ci.severity) == ("CI", safety.Severity.BLOCK)
    assert "ANTIVITAMINES K + MICONAZOLE" in ci.what or "MICONAZOLE + ANTIVITAMINES K" in ci.what
    assert "hémorragi" in ci.why.lower()  # the thesaurus' risk text, as published
    assert ci.source.startswith("Thésaurus ANSM")
    with pytest.raises(PrescriptionBlocked):
        prescribe(world, MICONAZOLE_GEL)
    assert Prescription.objects.count() == 1  # nothing stored


def test_a_contraindication_through_a_class_of_the_index(ref: None, world: World) -> None:
    simvastatin = services.prescription_check  # noqa: F841 (readability below)
    prescribe(world, CLARITHROMYCIN)
    from records.models import Drug

    simva = Drug.objects.filter(dci__startswith="SIMVASTATINE 20 mg", marketed=True).first()
    assert simva is not None
    alerts = alerts_for(world, simva.cis)
    assert ("interaction", "CI", safety.Severity.BLOCK) in kinds(alerts)
    assert any("INHIBITEURS PUISSANTS DU CYP3A4" in a.what for a in alerts)


def test_an_association_deconseillee_warns(ref: None, world: World) -> None:
    prescribe(world, WARFARIN)
    alerts = alerts_for(world, IBUPROFEN)
    assert ("interaction", "AD", safety.Severity.WARNING) in kinds(alerts)
    assert not safety.blocking(alerts)
    prescribe(world, IBUPROFEN)  # a warning does not stop the save


def test_a_precaution_d_emploi_warns(ref: None, world: World) -> None:
    prescribe(world, WARFARIN)
    alerts = alerts_for(world, PARACETAMOL)
    (pe,) = [a for a in alerts if a.kind == "interaction"]
    assert (pe.level, pe.severity) == ("PE", safety.Severity.WARNING)
    assert "INR" in pe.conduct  # the conduct to hold, from the thesaurus


def test_a_prendre_en_compte_informs(ref: None, world: World) -> None:
    prescribe(world, VENLAFAXINE)
    alerts = alerts_for(world, TRAMADOL)
    assert ("interaction", "APEC", safety.Severity.INFO) in kinds(alerts)


def test_an_unrelated_pair_is_silent(ref: None, world: World) -> None:
    prescribe(world, PARACETAMOL)
    assert alerts_for(world, AMOXICILLIN) == []


def test_a_substance_missing_from_the_thesaurus_is_not_checked(ref: None, world: World) -> None:
    prescribe(world, WARFARIN)
    alerts = alerts_for(world, BIMATOPROST)
    (unchecked,) = [a for a in alerts if a.kind == "not_checked"]
    assert "BIMATOPROST" in unchecked.what
    assert unchecked.severity == safety.Severity.NOT_CHECKED
    # A drug with one known and one unknown substance: the unknown one is said.
    alerts = alerts_for(world, AUGMENTIN)
    assert any(a.kind == "not_checked" and "CLAVULANIQUE" in a.what for a in alerts)


def test_a_drug_typed_freely_is_not_checked(ref: None, world: World) -> None:
    actor = world.actor(world.alice)
    (alerts,) = services.prescription_check(
        actor=actor,
        access=access_for(world.paul),
        items=[ItemInput(drug_label="Sirop maison", posology="1 c. à s.", duration_days=3)],
    )
    assert [a.kind for a in alerts] == ["not_checked"]


def test_two_lines_of_one_prescription_are_checked_together(ref: None, world: World) -> None:
    actor = world.actor(world.alice)
    checked = services.prescription_check(
        actor=actor, access=access_for(world.paul), items=[line(WARFARIN), line(MICONAZOLE_GEL)]
    )
    assert checked[0] == []
    assert ("interaction", "CI", safety.Severity.BLOCK) in kinds(checked[1])


# Allergies ----------------------------------------------------------------------------------


def test_an_allergy_recorded_as_a_substance_blocks_every_salt(ref: None, world: World) -> None:
    from records.models import Substance

    trihydrate = Substance.objects.get(name="AMOXICILLINE TRIHYDRATÉE")
    allergy(world, substance="Amoxicilline", substance_code=trihydrate.code, reaction="urticaire")
    alerts = alerts_for(world, AMOXICILLIN)
    (block,) = safety.blocking(alerts)
    assert block.kind == "allergy"
    assert "AMOXICILLINE" in block.what and "urticaire" in block.why
    assert safety.blocking(alerts_for(world, AUGMENTIN))
    assert not safety.blocking(alerts_for(world, PARACETAMOL))


def test_an_allergy_recorded_as_a_class_blocks_its_members(ref: None, world: World) -> None:
    allergy(world, substance="Pénicillines", atc_class="J01C")
    (block,) = safety.blocking(alerts_for(world, AMOXICILLIN))
    assert "J01C" in block.what and "J01CA04" in block.what
    assert not safety.blocking(alerts_for(world, CLARITHROMYCIN))  # a macrolide


def test_a_class_allergy_with_no_atc_code_known_is_not_checked(ref: None, world: World) -> None:
    allergy(world, substance="AVK", atc_class="B01AA")
    alerts = alerts_for(world, WARFARIN)  # warfarin has no ATC code in CIS_MITM
    assert any(a.kind == "not_checked" and "B01AA" in a.what for a in alerts)


def test_an_intolerance_warns_instead_of_blocking(ref: None, world: World) -> None:
    allergy(world, substance="Pénicillines", atc_class="J01C", kind=Allergy.Kind.INTOLERANCE)
    alerts = alerts_for(world, AMOXICILLIN)
    assert ("allergy", "", safety.Severity.WARNING) in kinds(alerts)


def test_an_allergy_in_free_text_is_said_not_checked(ref: None, world: World) -> None:
    allergy(world, substance="Pénicillines (amoxicilline)")
    alerts = alerts_for(world, AMOXICILLIN)
    assert not safety.blocking(alerts)
    assert any(a.code.startswith("not_checked:allergy:") for a in alerts)


def test_an_allergy_with_an_unknown_code_is_refused(ref: None, world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        allergy(world, substance="X", substance_code="99999")
    assert "substance_code" in refused.value.message_dict
    with pytest.raises(ValidationError):
        allergy(world, substance="X", atc_class="Z99")
    with pytest.raises(ValidationError):
        allergy(world, substance="X", substance_code="05248", atc_class="J01C")
    assert not Allergy.objects.exists()


# The same substance twice --------------------------------------------------------------------


def test_the_same_substance_twice_warns(ref: None, world: World) -> None:
    prescribe(world, PARACETAMOL)
    alerts = alerts_for(world, CODOLIPRANE)
    (duplicate,) = [a for a in alerts if a.kind == "duplicate"]
    assert "PARACÉTAMOL" in duplicate.what
    assert duplicate.severity == safety.Severity.WARNING


# Overriding ---------------------------------------------------------------------------------


def test_overriding_a_block_needs_a_reason_and_is_audited(ref: None, world: World) -> None:
    prescribe(world, WARFARIN)
    with pytest.raises(PrescriptionBlocked) as refused:
        prescribe(world, MICONAZOLE_GEL, override_reason="   ")
    assert "override_reason" in refused.value.message_dict
    prescription = prescribe(
        world, MICONAZOLE_GEL, override_reason="Mycose sévère, INR contrôlé à J3"
    )
    assert prescription.override_reason == "Mycose sévère, INR contrôlé à J3"
    event = AuditEvent.objects.get(action="prescription.override")
    assert event.target == f"prescription:{prescription.pk}"
    assert event.reason == "Mycose sévère, INR contrôlé à J3"
    assert any(code.startswith("interaction:CI:") for code in event.details["alerts"])


def test_a_line_keeps_its_dci_structured_posology_and_secure_flag(ref: None, world: World) -> None:
    actor = world.actor(world.alice)
    prescription = services.prescription_create(
        actor=actor,
        access=access_for(world.paul),
        items=[
            line(TRAMADOL, dose_unit="gélule", posology="si douleur", show_brand=True),
            line(AMOXICILLIN, dose_unit="gélule", frequency=3),
        ],
    )
    tramadol, amox = PrescriptionItem.objects.filter(prescription=prescription)
    assert tramadol.printed_name == (
        "CHLORHYDRATE DE TRAMADOL 50 mg, gélule (TOPALGIC 50 mg, gélule)"
    )
    assert tramadol.posology == "1 gélule 2 fois par jour, si douleur"
    assert tramadol.secure and not amox.secure
    assert amox.printed_name == "AMOXICILLINE 500 mg, gélule"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"drug_cis": "00000000"}, "items.0.drug"),
        ({"dose_quantity": Decimal(0)}, "items.0.dose_quantity"),
        ({"dose_quantity": Decimal(-1)}, "items.0.dose_quantity"),
        ({"frequency": 0}, "items.0.frequency"),
        ({"dose_unit": ""}, "items.0.dose_unit"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_stored(
    ref: None, world: World, change: dict, field: str
) -> None:
    values = {"dose_quantity": Decimal(1), "dose_unit": "comprimé", "frequency": 2}
    values.update(change)
    cis = values.pop("drug_cis", PARACETAMOL)
    actor = world.actor(world.alice)
    with pytest.raises(ValidationError) as refused:
        services.prescription_create(
            actor=actor,
            access=access_for(world.paul),
            items=[ItemInput(drug_cis=cis, duration_days=7, **values)],
        )
    assert field in refused.value.message_dict
    assert not Prescription.objects.exists()


# The ordonnance ---------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(BytesIO(content)).pages)


def print_it(world: World, prescription: Prescription) -> str:
    from records import printing

    world.practice_a.address = "12 rue des Lilas"
    world.practice_a.postal_code = "69003"
    world.practice_a.city = "Lyon"
    world.practice_a.phone = "04 78 00 00 00"
    world.practice_a.save()
    world.alice.rpps = "10003456786"
    world.alice.am_number = "691234564"
    world.alice.save()
    prescription.refresh_from_db()
    return pdf_text(
        printing.prescription_pdf(
            actor=world.actor(world.alice),
            practice=world.practice_a,
            patient_id=world.paul.pk,
            prescription_id=prescription.pk,
        )
    )


def test_the_ordonnance_holds_prescriber_patient_and_dci(ref: None, world: World) -> None:
    from records.printing import age_in_words

    prescription = prescribe(world, AMOXICILLIN)
    text = print_it(world, prescription)
    for expected in (
        "RPPS 10003456786",
        "N° Assurance Maladie 691234564",
        "12 rue des Lilas",
        "69003 Lyon",
        "Tél. 04 78 00 00 00",
        "AMOXICILLINE 500 mg, gélule",
        "1 comprimé 2 fois par jour — pendant 7 jours",
        "Signature",
        age_in_words(world.paul.birth_date, prescription.prescribed_on),
        {"F": "Femme", "M": "Homme"}.get(world.paul.sex, "Sexe"),
    ):
        assert expected in text, expected
    assert "ARROW" not in text  # the brand only when asked for
    assert "Ordonnance sécurisée" not in text
    assert AuditEvent.objects.filter(
        action="prescription.print", target=f"prescription:{prescription.pk}"
    ).exists()


def test_an_ordonnance_securisee_writes_quantities_in_letters(ref: None, world: World) -> None:
    actor = world.actor(world.alice)
    prescription = services.prescription_create(
        actor=actor,
        access=access_for(world.paul),
        items=[line(TRAMADOL, dose_quantity=Decimal(2), dose_unit="gélule", frequency=3)],
    )
    text = print_it(world, prescription)
    assert "Ordonnance sécurisée" in text
    assert "50 mg (cinquante milligrammes)" in text
    assert "deux gélules trois fois par jour" in text
    assert "pendant sept jours" in text
    assert "Nombre de médicaments prescrits : un (1)" in text


def test_a_child_s_ordonnance_gives_the_weight(ref: None, world: World) -> None:
    from datetime import date

    from records.models import Observation, Patient

    world.actor(world.alice)
    Patient.objects.filter(pk=world.paul.pk).update(birth_date=date(2019, 5, 1))
    world.paul.refresh_from_db()
    services.entry_create(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        model=Observation,
        code="29463-7",
        label="Poids",
        value=Decimal("21.4"),
        unit="kg",
    )
    text = print_it(world, prescribe(world, AMOXICILLIN))
    assert "Poids : 21,4 kg" in text
    assert " ans" in text


def test_age_in_words() -> None:
    from datetime import date

    from records.printing import age_in_words

    assert age_in_words(date(1980, 6, 15), date(2026, 6, 14)) == "45 ans"
    assert age_in_words(date(2025, 1, 10), date(2026, 7, 10)) == "18 mois"
    assert age_in_words(date(2026, 7, 1), date(2026, 7, 11)) == "10 jours"


# The API and the pages -------------------------------------------------------------------


from django.test import Client  # noqa: E402

from tests.records.test_api import api_for  # noqa: E402
from tests.records.test_care_team import login, text  # noqa: E402


def api_line(cis: str, **kwargs) -> dict:
    values = {
        "drug_cis": cis,
        "dose_quantity": "1",
        "dose_unit": "comprimé",
        "frequency": 2,
        "duration_days": 7,
    }
    values.update(kwargs)
    return values


def test_the_api_checks_then_refuses_a_block_without_a_reason(
    ref: None, client: Client, world: World
) -> None:
    api = api_for(client, world, world.alice)
    base = f"patients/{world.paul.pk}/prescriptions/"
    assert api.send("post", base, {"items": [api_line(WARFARIN)]}).status_code == 201
    checked = api.send("post", base + "check/", {"items": [api_line(MICONAZOLE_GEL)]})
    assert checked.status_code == 200, checked.content
    (line,) = checked.json()
    assert any(a["blocks"] and a["level"] == "CI" for a in line["alerts"])
    refused = api.send("post", base, {"items": [api_line(MICONAZOLE_GEL)]})
    assert refused.status_code == 400
    assert "override_reason" in refused.content.decode()
    assert Prescription.objects.count() == 1
    done = api.send(
        "post",
        base,
        {"items": [api_line(MICONAZOLE_GEL)], "override_reason": "Avis du cardiologue"},
    )
    assert done.status_code == 201, done.content
    body = done.json()
    assert body["override_reason"] == "Avis du cardiologue"
    assert body["items"][0]["dci"].startswith("MICONAZOLE")
    assert AuditEvent.objects.filter(action="prescription.override").count() == 1
    # The patient reads it on its own line of their access report, not hidden in the
    # request's "wrote a prescription".
    from django.utils import translation

    from records.access_report import report_for

    with translation.override("fr"):
        report = report_for(patient_id=world.paul.pk, practice_id=world.practice_a.pk)
    whats = [line.what for line in report.lines]
    assert any("a passé outre une alerte de sécurité" in what for what in whats), whats


@pytest.mark.parametrize(
    ("item", "language", "message"),
    [
        ({"drug_cis": "00000000"}, "fr", "Code de médicament (CIS) inconnu"),
        ({"drug_cis": "00000000"}, "en", "Unknown drug code (CIS)"),
        ({"dose_quantity": "0"}, "fr", "La quantité par prise"),
        ({"dose_quantity": "-2"}, "en", "The quantity per dose is more than 0"),
    ],
)
def test_the_api_refuses_bad_lines_in_french_and_english(
    ref: None, client: Client, world: World, item: dict, language: str, message: str
) -> None:
    api = api_for(client, world, world.alice)
    response = client.post(
        f"/api/v1/patients/{world.paul.pk}/prescriptions/",
        data={"items": [api_line(PARACETAMOL, **item)]},
        content_type="application/json",
        HTTP_AUTHORIZATION=api.auth,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Prescription.objects.exists()


def test_the_api_records_an_allergy_by_substance_and_searches_the_reference(
    ref: None, client: Client, world: World
) -> None:
    api = api_for(client, world, world.alice)
    found = api.get("substances/?q=amoxicilline").json()
    assert found and found[0]["name"].startswith("AMOXICILLINE")
    assert api.get("atc-classes/?q=J01C").json()[0]["code"] == "J01C"
    created = api.send(
        "post",
        f"patients/{world.paul.pk}/allergies/",
        {"substance": "Amoxicilline", "substance_code": found[0]["code"]},
    )
    assert created.status_code == 201, created.content
    unknown = api.send(
        "post", f"patients/{world.paul.pk}/allergies/", {"substance": "X", "atc_class": "Q99"}
    )
    assert unknown.status_code == 400
    checked = api.send(
        "post",
        f"patients/{world.paul.pk}/prescriptions/check/",
        {"items": [api_line(AMOXICILLIN)]},
    ).json()
    assert checked[0]["alerts"][0]["kind"] == "allergy"


def test_a_secretary_cannot_check_a_prescription(ref: None, client: Client, world: World) -> None:
    api = api_for(client, world, world.sam)
    refused = api.send(
        "post", f"patients/{world.paul.pk}/prescriptions/check/", {"items": [api_line(WARFARIN)]}
    )
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).exists()


def test_the_form_shows_the_alerts_when_a_drug_is_picked(
    ref: None, client: Client, world: World
) -> None:
    allergy(world, substance="Pénicillines", atc_class="J01C")
    login(client, world.alice)
    url = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/ordonnance/"
    page = text(client.get(url))
    assert "Pénicillines (ATC J01C)" in page
    checked = text(client.get(url + "verifier/", {"items-0-drug_cis": AMOXICILLIN}))
    assert "Bloquant" in checked and "J01CA04" in checked
    assert 'name="override_reason"' in checked
    form = {
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-drug_cis": AMOXICILLIN,
        "items-0-drug_label": "AMOXICILLINE ARROW 500 mg, gélule",
        "items-0-dose_quantity": "1",
        "items-0-dose_unit": "gélule",
        "items-0-frequency": "3",
        "items-0-frequency_period": "day",
        "items-0-duration_days": "7",
        "items-0-substitutable": "on",
        "renewals": "0",
    }
    refused = client.post(url, form)
    assert refused.status_code == 400
    assert "donnez la raison" in text(refused)
    assert not Prescription.objects.exists()
    saved = client.post(url, {**form, "override_reason": "Allergie ancienne douteuse"})
    assert saved.status_code == 302
    assert Prescription.objects.get().override_reason == "Allergie ancienne douteuse"
