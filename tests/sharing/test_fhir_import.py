"""Importing FHIR R4 bundles: the ten Synthea bundles of shared/data/fhir/synthea (which
nobody on the project wrote), idempotence, atomicity, bad files, and the command.

The bundles live next to the repository: <checkout>/../shared/data/fhir/synthea.
"""

from __future__ import annotations

import copy
import gc
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import tenancy
from core.access.policy import Action, Category
from core.audit.models import AuditEvent
from records import access as records_access
from records.models import (
    Allergy,
    CareTeamMember,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from sharing.fhir.importer import FhirImportError, ImportReport, import_bundle
from sharing.models import ImportedResource
from tests.factories import PatientFactory
from tests.fixtures import World

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "data" / "fhir" / "synthea"
ALEXIS = SYNTHEA / "smart_Alexis_Toy_68cd1181-6359-4047-a77f-a165d7912480.json"
GERARDO = SYNTHEA / "fdp_Gerardo48_Zulauf375_7cf0b556-a4cc-7d40-c0e2-7d961a4d525e.json"
GABRIELE = SYNTHEA / "iris_Gabriele201_Rohan584_b0223c9b-0019-42b0-99b8-7d689d7f8414.json"
JILL = SYNTHEA / "smart_Jill_Tillman_c4b7d178-c437-4202-9fb0-1b64afb8bc09.json"
MICAH = SYNTHEA / "smart_Micah_Schinner_d4d72610-ec40-42ed-b34f-09e286181ee9.json"

MODELS = {
    "patient": Patient,
    "encounter": Encounter,
    "problem": Problem,
    "allergy": Allergy,
    "prescription": Prescription,
    "immunization": Immunization,
    "observation": Observation,
}


def _import(world: World, source: Path | dict[str, Any], **options: Any) -> ImportReport:
    actor = world.actor(world.alice)
    return import_bundle(
        actor=actor, practice=world.practice_a, path_or_dict=source, gp=world.alice, **options
    )


def _rows() -> dict[str, int]:
    """Row counts of practice A (the practice context must be active)."""
    counts = {name: model.objects.count() for name, model in MODELS.items()}
    counts["prescription_item"] = PrescriptionItem.objects.count()
    counts["care_team"] = CareTeamMember.objects.count()
    counts["imported"] = ImportedResource.objects.count()
    return counts


def _create_events() -> int:
    return AuditEvent.objects.filter(action__endswith=".create").count()


def _expected(bundle: dict[str, Any]) -> Counter[str]:
    """What the bundle should become, counted from the JSON by the importer's rules:
    one row per resource, except an Observation whose value is only in its components
    (one row per valued component) and an Observation without any value (none)."""
    simple = {
        "Patient": "patient",
        "Encounter": "encounter",
        "Condition": "problem",
        "AllergyIntolerance": "allergy",
        "MedicationRequest": "prescription",
        "Immunization": "immunization",
    }
    expected: Counter[str] = Counter()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind in simple:
            expected[simple[kind]] += 1
        elif kind == "Observation":
            if any(key.startswith("value") for key in resource):
                expected["observation"] += 1
            else:
                expected["observation"] += sum(
                    any(key.startswith("value") for key in component)
                    for component in resource.get("component", [])
                )
    return expected


def _bundle(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- The ten Synthea bundles ------------------------------------------------------------


def test_the_ten_synthea_bundles_exist_next_to_the_repository() -> None:
    assert len(sorted(SYNTHEA.glob("*.json"))) == 10, f"expected 10 bundles in {SYNTHEA}"


def test_all_ten_synthea_bundles_import_with_the_counts_of_their_content(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    for path in sorted(SYNTHEA.glob("*.json")):
        before = Counter(_rows())

        report = _import(world, path)

        after = Counter(_rows())
        expected = _expected(_bundle(path))
        assert +report.created == +expected, path.name
        for name in MODELS:
            assert after[name] - before[name] == expected[name], (path.name, name)
        assert after["imported"] - before["imported"] == report.created_total
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Patient.objects.count() == 11  # Paul and the ten


def test_a_bundle_gives_the_counts_its_source_lists(world: World) -> None:
    """Alexis Toy, as shared/data/fhir/SOURCES.md describes it: Enc 14, Cond 2,
    Allergy 8, MedReq 3, Imm 25, Obs 77 (of which blood pressures, in components)."""
    report = _import(world, ALEXIS)

    blood_pressures = sum(
        1
        for entry in _bundle(ALEXIS)["entry"]
        if entry["resource"]["resourceType"] == "Observation" and "component" in entry["resource"]
    )
    assert report.created == Counter(
        patient=1,
        encounter=14,
        problem=2,
        allergy=8,
        prescription=3,
        immunization=25,
        observation=77 + blood_pressures,  # two rows (systolic, diastolic) per panel
    )
    assert report.unsupported == Counter(
        Organization=2,
        Practitioner=2,
        DiagnosticReport=1,
        Claim=17,
        ExplanationOfBenefit=14,
        Procedure=9,
        CarePlan=1,
    )
    assert PrescriptionItem.objects.count() == 3


def test_the_patient_is_mapped_with_the_source_names_and_no_nir(world: World) -> None:
    _import(world, GERARDO)

    patient = Patient.objects.get(birth_name="Zulauf375")
    assert patient.given_names == "Gerardo48"  # the source's digits are kept
    assert patient.sex == Patient.Sex.MALE
    assert patient.birth_date == date(1953, 3, 2)
    assert patient.nir == ""
    assert patient.address == "385 Tromp Course, MA, US"
    assert (patient.postal_code, patient.city) == ("02724", "Fall River")
    assert patient.phone == "555-383-3315"
    assert patient.birth_place == "Tewksbury, Massachusetts, US"
    assert patient.gp_id == world.alice.pk
    assert CareTeamMember.objects.filter(patient=patient, person=world.alice).exists()


def test_a_maiden_name_becomes_the_birth_name_and_a_death_its_date(world: World) -> None:
    _import(world, JILL)
    _import(world, MICAH)

    jill = Patient.objects.get(given_names="Jill")
    assert (jill.birth_name, jill.used_name, jill.sex) == ("Hackett", "Tillman", "F")
    micah = Patient.objects.get(given_names="Micah")
    assert micah.deceased_on == date(2020, 11, 24)


def test_clinical_dates_come_from_the_resources_and_entries_are_alices(world: World) -> None:
    _import(world, ALEXIS)

    problem = Problem.objects.get(label="Acute allergic reaction")
    assert problem.onset == date(2019, 9, 16)
    assert problem.clinical_status == Problem.ClinicalStatus.RESOLVED
    assert problem.resolved_on == date(2019, 9, 16)
    prescription = Prescription.objects.get(items__drug_label="predniSONE 5 MG Oral Tablet")
    assert prescription.prescribed_on == date(2019, 9, 16)
    assert prescription.items.get().posology == "selon prescription"
    first = Encounter.objects.order_by("occurred_at").first()
    assert first is not None
    assert first.occurred_at.isoformat() == "2018-06-23T03:19:07+00:00"
    assert first.kind == Encounter.Kind.OFFICE
    assert first.reason == "Encounter for check up (procedure)"
    height = Observation.objects.filter(code="8302-2").order_by("effective_at").first()
    assert height is not None
    assert (str(height.value), height.unit) == ("50.778", "cm")  # rounded to 3 decimals
    assert height.encounter_id == first.pk
    assert Immunization.objects.filter(vaccinated_on=date(2018, 6, 23)).exists()
    assert Allergy.objects.filter(substance="Allergy to mould").exists()
    assert {e.author_id for e in Encounter.objects.all()} == {world.alice.pk}


def test_a_blood_pressure_panel_becomes_a_systolic_and_a_diastolic_observation(
    world: World,
) -> None:
    _import(world, ALEXIS)

    panels = ImportedResource.objects.filter(resource_id__contains="#component-")
    assert panels.count() > 0
    codes = set(Observation.objects.filter(pk__in=panels.values("target_id")).values_list("code"))
    assert codes == {("8480-6",), ("8462-4",)}


# --- Idempotence --------------------------------------------------------------------------


def test_importing_a_bundle_twice_creates_nothing_new(world: World) -> None:
    _import(world, GABRIELE)
    rows, creates = _rows(), _create_events()

    again = _import(world, GABRIELE)

    assert again.created_total == 0
    supported = {"Patient", "Encounter", "Condition", "MedicationRequest", "Immunization"}
    supported |= {"AllergyIntolerance", "Observation"}
    kinds = [e["resource"]["resourceType"] for e in _bundle(GABRIELE)["entry"]]
    assert again.already_imported == Counter(kind for kind in kinds if kind in supported)
    assert _rows() == rows
    assert _create_events() == creates


def test_a_new_resource_for_a_known_patient_is_added_to_that_patient(world: World) -> None:
    bundle = _bundle(GABRIELE)
    _import(world, bundle)
    patients = Patient.objects.count()
    extra = copy.deepcopy(
        next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization")
    )
    extra["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    extra["resource"]["id"] = "00000000-0000-4000-8000-000000000001"
    bundle["entry"].append(extra)

    report = _import(world, bundle)

    assert report.created == Counter(immunization=1)
    assert Patient.objects.count() == patients


# --- Reported, not fatal ------------------------------------------------------------------


def test_unsupported_resources_and_unresolved_references_are_reported(world: World) -> None:
    report = _import(world, GERARDO)

    assert report.unsupported == Counter(
        DiagnosticReport=61, DocumentReference=61, Claim=61, ExplanationOfBenefit=61, Provenance=1
    )
    kinds = report.unresolved_by_kind()
    assert kinds["Practitioner?"] > 0
    assert kinds["Location?"] > 0
    assert any(
        ref.reference.startswith("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|")
        and ref.display.startswith("Dr. ")
        for ref in report.unresolved
    )
    assert "unresolved references" in report.summary()
    assert report.created["encounter"] == 61


def test_a_type_carnet_does_not_store_is_counted_not_validated(world: World) -> None:
    """Only what is stored is validated: a Claim with a bad date is counted as not
    imported, while the same date in a Patient refuses the bundle (below); a type that
    is not FHIR at all still refuses it."""
    bundle = _bundle(GABRIELE)
    claim = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")
    claim["resource"]["created"] = "04/05/2009"

    report = _import(world, bundle)

    assert report.created["patient"] == 1
    assert report.unsupported["Claim"] > 0
    bundle["id"] = "not-fhir"
    bundle["entry"].append({"resource": {"resourceType": "Claimm", "id": "x"}})
    with pytest.raises(FhirImportError) as raised:
        _import(world, bundle)
    assert raised.value.code == "invalid"
    last = len(bundle["entry"]) - 1
    assert f"entry.{last}.resource.resourceType" in raised.value.reason


def test_an_observation_without_a_value_is_skipped_with_the_reason(world: World) -> None:
    lanell = SYNTHEA / "fdp_Lanell756_Goodwin327_988f3282-6014-affe-fb17-b051fe0380ee.json"

    report = _import(world, lanell)

    no_value = [line for line in report.skipped if "no value" in line]
    assert len(no_value) == 6  # the "Return visit date" observations carry no value
    assert all(line.startswith("Observation/") for line in no_value)


# --- Bad files: a clear error, nothing stored ---------------------------------------------


def _assert_nothing_stored(world: World, rows: dict[str, int], creates: int) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert _rows() == rows
    assert _create_events() == creates


def test_a_file_that_is_not_json_is_refused_clearly(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    rows, creates = _rows(), _create_events()

    with pytest.raises(FhirImportError) as raised:
        _import(world, broken)

    assert raised.value.code == "not_json"
    assert str(raised.value).startswith("broken.json: not JSON")
    _assert_nothing_stored(world, rows, creates)


def test_a_patient_instead_of_a_bundle_is_refused_clearly(world: World, tmp_path: Path) -> None:
    patient = next(e["resource"] for e in _bundle(GABRIELE)["entry"])
    lone = tmp_path / "patient.json"
    lone.write_text(json.dumps(patient), encoding="utf-8")
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    rows, creates = _rows(), _create_events()

    with pytest.raises(FhirImportError) as raised:
        _import(world, lone)

    assert raised.value.code == "not_a_bundle"
    assert "patient.json" in str(raised.value)
    assert "'Patient'" in raised.value.reason
    _assert_nothing_stored(world, rows, creates)


def test_a_bundle_with_an_invalid_resource_is_refused_clearly(world: World) -> None:
    bundle = _bundle(GABRIELE)
    bundle["id"] = "bad-birth-date"
    bundle["entry"][0]["resource"]["birthDate"] = "04/05/2009"
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    rows, creates = _rows(), _create_events()

    with pytest.raises(FhirImportError) as raised:
        _import(world, bundle)

    assert raised.value.code == "invalid"
    assert raised.value.reason.startswith("refused by the FHIR R4 validation")
    assert "entry.0.resource.birthDate" in raised.value.reason
    assert str(raised.value).startswith("bad-birth-date: ")
    _assert_nothing_stored(world, rows, creates)


def test_an_error_midway_stores_nothing_of_the_bundle(world: World) -> None:
    """The last immunization is too long for Carnet: the patient and everything written
    before it are rolled back, and the error names the resource and the field."""
    bundle = _bundle(GABRIELE)
    last = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization"][-1]
    last["resource"]["vaccineCode"]["text"] = "x" * 400
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    rows, creates = _rows(), _create_events()

    with pytest.raises(FhirImportError) as raised:
        _import(world, bundle)

    assert raised.value.code == "rejected"
    assert f"Immunization/{last['resource']['id']}" in raised.value.reason
    assert "vaccine" in raised.value.reason
    _assert_nothing_stored(world, rows, creates)
    failure = AuditEvent.objects.filter(action="fhir.import", outcome="failure").get()
    assert failure.actor_id == world.alice.pk


# --- Duplicates and the access policy -----------------------------------------------------


def test_a_possible_duplicate_patient_fails_the_bundle_unless_confirmed(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    PatientFactory(
        practice=world.practice_a,
        gp=world.alice,
        birth_name="Rohan584",
        given_names="Gabriele201",
        sex="F",
        birth_date=date(2009, 5, 4),
    )
    rows, creates = _rows(), _create_events()

    with pytest.raises(FhirImportError) as raised:
        _import(world, GABRIELE)

    assert raised.value.code == "possible_duplicate"
    _assert_nothing_stored(world, rows, creates)

    report = _import(world, GABRIELE, confirm_not_duplicate=True)
    assert report.created["patient"] == 1


def test_a_secretary_cannot_import_clinical_data(world: World) -> None:
    """Sam may register a patient but not write clinical entries: the whole bundle is
    refused, and the refusal stays in the audit trail."""
    actor = world.actor(world.sam)
    rows, creates = _rows(), _create_events()

    with pytest.raises(FhirImportError) as raised:
        import_bundle(actor=actor, practice=world.practice_a, path_or_dict=ALEXIS, gp=world.alice)

    assert raised.value.code == "not_allowed"
    _assert_nothing_stored(world, rows, creates)
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk)
    assert denied.filter(details__rule="not-practitioner").exists()


def test_the_gp_of_record_must_be_a_practitioner_of_the_practice(world: World) -> None:
    actor = world.actor(world.alice)

    with pytest.raises(FhirImportError) as raised:
        import_bundle(actor=actor, practice=world.practice_a, path_or_dict=ALEXIS, gp=world.sam)

    assert raised.value.code == "not_allowed"
    with pytest.raises(FhirImportError):
        import_bundle(actor=actor, practice=world.practice_a, path_or_dict=ALEXIS, gp=world.charlie)


def test_imported_clinical_data_is_closed_to_bob_outside_the_care_team(world: World) -> None:
    _import(world, ALEXIS)
    patient = Patient.objects.get(birth_name="Toy")

    bob = world.actor(world.bob)
    alice = world.actor(world.alice)

    assert not records_access.check(bob, Action.READ, Category.CLINICAL, patient).allowed
    assert records_access.check(alice, Action.READ, Category.CLINICAL, patient).allowed


def test_another_practice_sees_nothing_of_the_import(world: World) -> None:
    _import(world, ALEXIS)

    tenancy.activate(world.practice_b.pk, world.charlie.pk)

    assert not Patient.objects.filter(birth_name="Toy").exists()
    assert ImportedResource.objects.count() == 0


# --- The command --------------------------------------------------------------------------


def test_the_command_prints_progress_and_fails_on_a_bad_file(world: World, tmp_path: Path) -> None:
    (tmp_path / "a_good.json").write_bytes(GABRIELE.read_bytes())
    (tmp_path / "b_broken.json").write_text("not json", encoding="utf-8")
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command(
            "import_fhir", "--practice", "cabinet-a", "--as", "alice", str(tmp_path), stdout=out
        )

    assert raised.value.returncode == 1
    assert "b_broken.json" in str(raised.value)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/2] a_good.json: created patient 1")
    assert lines[1].startswith("[2/2] b_broken.json: FAILED: not JSON")
    assert lines[2].startswith("1 of 2 files imported")
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Patient.objects.filter(birth_name="Rohan584").count() == 1


def test_the_command_pauses_the_cycle_collector_only_while_it_imports(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sharing.management.commands import import_fhir

    collector_on: list[bool] = []
    real_import = import_fhir.import_bundle

    def watched(**arguments: Any) -> ImportReport:
        collector_on.append(gc.isenabled())
        return real_import(**arguments)

    monkeypatch.setattr(import_fhir, "import_bundle", watched)
    assert gc.isenabled()

    call_command(
        "import_fhir",
        "--practice",
        "cabinet-a",
        "--as",
        "alice",
        str(GABRIELE),
        stdout=io.StringIO(),
    )

    assert collector_on == [False]
    assert gc.isenabled()


def test_the_command_imports_a_file_twice_without_creating_anything(world: World) -> None:
    out = io.StringIO()
    arguments = ["import_fhir", "--practice", "cabinet-a", "--as", "alice", str(GABRIELE)]

    call_command(*arguments, stdout=out)
    call_command(*arguments, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[2].startswith("[1/1] ")
    assert "created nothing" in lines[2]
    assert "already imported" in lines[2]


def test_the_command_refuses_a_secretary_as_gp(world: World) -> None:
    with pytest.raises(CommandError, match="not a practitioner"):
        call_command(
            "import_fhir",
            "--practice",
            "cabinet-a",
            "--as",
            "sam",
            str(GABRIELE),
            stdout=io.StringIO(),
        )
