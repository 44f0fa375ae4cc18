"""A patient's identity after registration: corrections with their history, the death,
the GP of record, paper-only patients, the NIR as printed on the carte Vitale, and the
merge of duplicates — through the services, the pages and the API, with the refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from core import tenancy
from core.access import choices
from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from records import nir, services
from records.access import access_for
from records.models import CareTeamMember, Encounter, IdentityChange, Patient
from records.printing import access_report
from tests.factories import MembershipFactory, PatientFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login

BORN = date(1985, 5, 17)
NIR = nir.make("1", BORN, "78006", 84)  # a man born in May 1985 in the Yvelines
SPACED = f"{NIR[0]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}"
DOTTED = SPACED.replace(" ", ".")


def page(world: World, patient: Patient, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{patient.pk}/{rest}"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def correct(world: World, person, patient: Patient | None = None, **changes):
    patient = patient or world.paul
    tenancy.activate(world.practice_a.pk, person.pk)
    fresh = Patient.objects.get(pk=patient.pk)
    return services.patient_identity_correct(
        actor=world.actor(person),
        access=access_for(fresh),
        expected_version=changes.pop("version", fresh.version),
        reason=changes.pop("reason", "Le patient a déménagé"),
        **changes,
    )


def practice_admin(world: World):
    tenancy.activate(world.practice_a.pk)
    pia = PersonFactory(username="pia", full_name="Pia Perrin")
    MembershipFactory(practice=world.practice_a, person=pia, role="practice_admin")
    return pia


def exclude(world: World, person) -> None:
    """Paul excludes ``person`` from his whole record."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=person.pk,
        source="formulaire signé n° 12",
    )


# --- the NIR as printed ---------------------------------------------------------------


@pytest.mark.parametrize("typed", [SPACED, DOTTED, f" {NIR[:7]}-{NIR[7:]} "])
def test_a_nir_typed_with_spaces_dots_or_hyphens_is_stored_without_them(typed: str) -> None:
    assert nir.normalise(typed) == NIR
    assert nir.parse(typed).value == NIR


def test_the_registration_form_accepts_a_nir_typed_as_on_the_carte_vitale(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    form = {
        "birth_name": "Lemoine",
        "given_names": "Marc",
        "sex": "M",
        "birth_date": BORN.isoformat(),
        "nir": SPACED,
        "contact_preference": "paper",
        "address": "3 rue des Lilas",
        "postal_code": "78000",
        "city": "Versailles",
        "gp": str(world.alice.pk),
    }
    response = sam.post(f"/p/{world.practice_a.slug}/patients/nouveau/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    tenancy.activate(world.practice_a.pk)
    patient = Patient.objects.get(birth_name="Lemoine")
    assert patient.nir == NIR


# --- registration: paper-only, GP of record -------------------------------------------


def registration(**overrides: str) -> dict[str, str]:
    return {
        "birth_name": "Lemoine",
        "given_names": "Marc",
        "sex": "M",
        "birth_date": BORN.isoformat(),
        "contact_preference": "paper",
        "gp": "none",
        **overrides,
    }


def test_a_paper_only_patient_is_registered_without_phone_or_email_and_shown_so(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    response = sam.post(f"/p/{world.practice_a.slug}/patients/nouveau/", registration())
    assert response.status_code == 302
    chart = sam.get(response["Location"]).content.decode()
    assert 'data-testid="paper-only"' in chart
    assert "Papier uniquement" in chart
    tenancy.activate(world.practice_a.pk)
    patient = Patient.objects.get(birth_name="Lemoine")
    assert (patient.contact_preference, patient.phone, patient.email) == ("paper", "", "")


@pytest.mark.parametrize(
    "overrides",
    [
        {"contact_preference": "paper", "phone": "0601020304"},
        {"contact_preference": "phone"},
        {"contact_preference": ""},
    ],
)
def test_how_to_reach_the_patient_must_agree_with_the_phone_and_email(
    client: Client, world: World, overrides: dict[str, str]
) -> None:
    sam = login(client, world.sam)
    response = sam.post(f"/p/{world.practice_a.slug}/patients/nouveau/", registration(**overrides))
    assert response.status_code == 400
    assert 'id="id_contact_preference"' in response.content.decode()
    assert "errorlist" in response.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert not Patient.objects.filter(birth_name="Lemoine").exists()


def test_the_registration_form_offers_the_practice_doctors_or_none_yet(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_a.pk)
    nurse = PersonFactory(full_name="Nina Infirmière", profession="nurse")
    MembershipFactory(practice=world.practice_a, person=nurse, role="practitioner")
    sam = login(client, world.sam)
    form = sam.get(f"/p/{world.practice_a.slug}/patients/nouveau/").content.decode()
    assert "Médecin traitant" in form
    offered = form[form.index('name="gp"') : form.index("</select>", form.index('name="gp"'))]
    assert "Pas encore" in offered
    assert "Dr Alice Arnaud" in offered and "Dr Bob Blanc" in offered
    assert "Nina Infirmière" not in offered  # a nurse is not a médecin traitant
    assert "Sam Simon" not in offered and "Dr Charlie Caron" not in offered


def test_the_gp_chosen_at_registration_joins_the_care_team_from_today(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    response = sam.post(
        f"/p/{world.practice_a.slug}/patients/nouveau/", registration(gp=str(world.bob.pk))
    )
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    patient = Patient.objects.get(birth_name="Lemoine")
    assert (patient.gp_id, patient.gp_since) == (world.bob.pk, timezone.localdate())
    assert CareTeamMember.objects.filter(patient=patient, person=world.bob).exists()


def test_a_gp_of_another_practice_is_refused_at_registration(client: Client, world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        services.patient_create(
            actor=world.actor(world.sam),
            birth_name="Lemoine",
            given_names="Marc",
            sex="M",
            birth_date=BORN,
            gp_id=world.charlie.pk,
        )
    assert "gp" in refused.value.message_dict


# --- correcting the identity ----------------------------------------------------------


def test_correcting_the_address_keeps_the_old_value_with_who_when_and_why(world: World) -> None:
    correct(world, world.sam, address="1 place Bellecour", city="Lyon")
    correct(world, world.sam, address="8 rue Mercière", reason="Nouveau déménagement")
    tenancy.activate(world.practice_a.pk)
    paul = Patient.objects.get(pk=world.paul.pk)
    assert (paul.address, paul.version) == ("8 rue Mercière", 3)
    first, second = IdentityChange.objects.filter(patient=paul).order_by("pk")
    assert first.changes == {"address": ["", "1 place Bellecour"]}  # the city was Lyon already
    assert second.changes == {"address": ["1 place Bellecour", "8 rue Mercière"]}
    assert (second.changed_by_id, second.reason, second.version) == (
        world.sam.pk,
        "Nouveau déménagement",
        3,
    )


def test_the_audit_event_names_the_fields_changed_never_their_values(world: World) -> None:
    correct(world, world.sam, phone="0478123456", birth_name="Dupond")
    tenancy.activate(world.practice_a.pk)
    (event,) = events("patient.identity_corrected")
    assert (event.actor_id, event.patient_id, event.category) == (
        world.sam.pk,
        world.paul.pk,
        "identity",
    )
    assert event.details == {"fields": ["birth_name", "phone"]}
    stored = f"{event.details} {event.reason} {event.target}"
    assert "0478123456" not in stored and "Dupond" not in stored


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"nir": "185057800608492"}, "nir"),  # wrong key
        ({"nir": "2700517069123"}, "nir"),  # too short
        ({"birth_date": timezone.localdate() + timedelta(days=1)}, "birth_date"),
        ({"sex": "M"}, "nir"),  # Paul's NIR says a woman
        ({"birth_date": date(1971, 5, 17)}, "nir"),  # ... born in 1970
        ({"contact_preference": "paper", "phone": "0601020304"}, "contact_preference"),
    ],
)
def test_a_bad_correction_is_refused_and_stores_nothing(
    world: World, changes: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        correct(world, world.sam, **changes)
    assert field in refused.value.message_dict
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).version == 1
    assert not IdentityChange.objects.exists()
    assert not events("patient.identity_corrected")


def test_a_nir_already_used_by_another_patient_is_refused(world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    other = PatientFactory(practice=world.practice_a, birth_name="Autre")
    with pytest.raises(ValidationError) as refused:
        correct(world, world.sam, nir=other.nir)
    assert "déjà" in " ".join(refused.value.message_dict["nir"]) or "already" in str(refused.value)
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).nir != other.nir


def test_the_same_nir_in_another_practice_is_not_a_duplicate(world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    PatientFactory(practice=world.practice_a, birth_name="Ailleurs", nir="")
    zoe_nir = world.zoe.nir
    tenancy.activate(world.practice_a.pk)
    twin = PatientFactory(practice=world.practice_a, birth_name="Zola", nir="")
    correct(world, world.sam, twin, nir=zoe_nir)
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=twin.pk).nir == zoe_nir


def test_a_correction_needs_a_reason(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        correct(world, world.sam, reason="   ", phone="0478123456")
    assert "reason" in refused.value.message_dict
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).phone == ""


def test_a_correction_based_on_an_old_version_is_refused_with_when(world: World) -> None:
    correct(world, world.sam, phone="0478123456")
    with pytest.raises(services.IdentityConflict) as conflict:
        correct(world, world.alice, version=1, phone="0600000000")
    assert "changed by someone else" in str(conflict.value) or "quelqu'un" in str(conflict.value)
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).phone == "0478123456"


def test_a_correction_that_changes_nothing_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        correct(world, world.sam, birth_name=world.paul.birth_name)
    tenancy.activate(world.practice_a.pk)
    assert not IdentityChange.objects.exists()


def test_a_practice_admin_reads_but_does_not_correct_the_identity(world: World) -> None:
    pia = practice_admin(world)
    with pytest.raises(AccessDenied):
        correct(world, pia, phone="0478123456")
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).phone == ""


# --- the correction page and the history on the chart ---------------------------------


def correction_form(world: World, **changes: str) -> dict[str, str]:
    tenancy.activate(world.practice_a.pk)
    paul = Patient.objects.get(pk=world.paul.pk)
    form = {
        "version": str(paul.version),
        "birth_name": paul.birth_name,
        "used_name": paul.used_name,
        "given_names": paul.given_names,
        "sex": paul.sex,
        "birth_date": paul.birth_date.isoformat(),
        "nir": paul.nir,
        "address": paul.address,
        "postal_code": paul.postal_code,
        "city": paul.city,
        "contact_preference": "phone",
        "phone": "0478000000",
        "reason": "Le patient a déménagé",
    }
    form.update(changes)
    return form


def test_the_secretary_corrects_the_address_and_the_gp_sees_the_old_one_on_the_chart(
    client: Client, world: World
) -> None:
    correct(world, world.sam, address="1 place Bellecour")
    sam = login(client, world.sam)
    chart = sam.get(page(world, world.paul)).content.decode()
    assert "Corriger l'identité" in chart
    form = sam.get(page(world, world.paul, "identite/")).content.decode()
    assert "1 place Bellecour" in form and "Motif de la correction" in form
    response = sam.post(
        page(world, world.paul, "identite/"), correction_form(world, address="8 rue Mercière")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    alice = login(Client(), world.alice)
    chart = alice.get(page(world, world.paul)).content.decode()
    history = chart[chart.index('data-testid="identity-history"') :]
    assert "1 place Bellecour" in history and "8 rue Mercière" in history
    assert "Sam Simon" in history and "Le patient a déménagé" in history
    assert "Adresse" in history


@pytest.mark.parametrize(
    "changes,french,english",
    [
        ({"reason": ""}, "Ce champ est obligatoire", "This field is required"),
        ({"nir": "185057800608492"}, "La clé du NIR", "The NIR key does not match"),
        (
            {"birth_date": (timezone.localdate() + timedelta(days=3)).isoformat()},
            "ne peut pas être dans le futur",
            "cannot be in the future",
        ),
    ],
)
def test_a_bad_correction_on_the_page_is_a_clear_400_in_french_and_english(
    client: Client, world: World, changes: dict, french: str, english: str
) -> None:
    sam = login(client, world.sam)
    path = page(world, world.paul, "identite/")
    response = sam.post(path, correction_form(world, **changes))
    assert response.status_code == 400
    assert french in response.content.decode()
    response = sam.post(path, correction_form(world, **changes), HTTP_ACCEPT_LANGUAGE="en")
    assert english in response.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert not IdentityChange.objects.exists()


def test_a_nir_used_by_another_patient_is_a_clear_400_on_the_page(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_a.pk)
    other = PatientFactory(practice=world.practice_a, birth_name="Autre")
    sam = login(client, world.sam)
    response = sam.post(page(world, world.paul, "identite/"), correction_form(world, nir=other.nir))
    assert response.status_code == 400
    assert "Un patient avec ce NIR est déjà enregistré" in response.content.decode()


def test_a_stale_correction_on_the_page_says_someone_else_changed_it(
    client: Client, world: World
) -> None:
    form = correction_form(world, address="8 rue Mercière")
    correct(world, world.alice, phone="0600000000")
    sam = login(client, world.sam)
    response = sam.post(page(world, world.paul, "identite/"), form)
    assert response.status_code == 400
    assert "L&#x27;identité de ce patient a été modifiée par quelqu" in response.content.decode()


def test_junk_in_the_correction_form_is_a_400_not_a_500(client: Client, world: World) -> None:
    sam = login(client, world.sam)
    response = sam.post(
        page(world, world.paul, "identite/"),
        correction_form(world, version="abc", birth_date="32/13/1999", sex="Z"),
    )
    assert response.status_code == 400


PAGES = ["identite/", "deces/", "medecin-traitant/", "fusionner/"]


@pytest.mark.parametrize("rest", PAGES)
def test_the_identity_pages_of_another_practice_patient_are_not_found(
    client: Client, world: World, rest: str
) -> None:
    alice = login(client, world.alice)
    assert alice.get(page(world, world.zoe, rest)).status_code == 404
    assert alice.post(page(world, world.zoe, rest), {}).status_code == 404


@pytest.mark.parametrize("rest", PAGES)
def test_a_person_the_patient_excluded_is_refused_the_identity_pages_and_it_is_audited(
    client: Client, world: World, rest: str
) -> None:
    exclude(world, world.sam if rest != "fusionner/" else world.alice)
    person = world.sam if rest != "fusionner/" else world.alice
    browser = login(client, person)
    assert browser.get(page(world, world.paul, rest)).status_code == 403
    assert browser.post(page(world, world.paul, rest), {}).status_code == 403
    tenancy.activate(world.practice_a.pk)
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=person.pk)
    assert denied.filter(patient_id=world.paul.pk).count() == 2


@pytest.mark.parametrize("rest", PAGES)
def test_a_practice_admin_cannot_open_the_identity_pages(
    client: Client, world: World, rest: str
) -> None:
    pia = practice_admin(world)
    browser = login(client, pia)
    assert browser.get(page(world, world.paul)).status_code == 200  # reads the identity
    tenancy.activate(world.practice_a.pk)
    denied = AuditEvent.objects.filter(
        action="access.denied", actor_id=pia.pk, patient_id=world.paul.pk
    )
    before = denied.count()
    assert browser.get(page(world, world.paul, rest)).status_code == 403
    assert browser.post(page(world, world.paul, rest), correction_form(world)).status_code == 403
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).version == 1
    assert denied.count() == before + 2


def test_a_secretary_cannot_merge_records(client: Client, world: World) -> None:
    """A merge moves clinical entries: it needs the right to write the clinical record."""
    sam = login(client, world.sam)
    assert sam.get(page(world, world.paul, "fusionner/")).status_code == 403
    assert "Fusionner un doublon" not in sam.get(page(world, world.paul)).content.decode()


# --- death ----------------------------------------------------------------------------


def record_death(world: World, person, **values):
    tenancy.activate(world.practice_a.pk, person.pk)
    paul = Patient.objects.get(pk=world.paul.pk)
    return services.patient_death_record(
        actor=world.actor(person),
        access=access_for(paul),
        expected_version=values.pop("version", paul.version),
        **values,
    )


def test_recording_a_death_needs_a_confirmation(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        record_death(world, world.sam, deceased_on=date(2024, 3, 2), confirmed=False)
    assert "confirmed" in refused.value.message_dict
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).deceased_on is None


def test_a_death_in_the_future_or_before_birth_is_refused(world: World) -> None:
    for day in (timezone.localdate() + timedelta(days=1), date(1960, 1, 1)):
        with pytest.raises(ValidationError) as refused:
            record_death(world, world.sam, deceased_on=day, confirmed=True)
        assert "deceased_on" in refused.value.message_dict


def test_a_recorded_death_is_on_the_banner_in_the_history_and_audited(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    response = sam.post(
        page(world, world.paul, "deces/"),
        {"version": "1", "deceased_on": "2024-03-02", "confirmed": "on"},
    )
    assert response.status_code == 302
    chart = sam.get(page(world, world.paul)).content.decode()
    assert 'data-testid="deceased"' in chart and "Décédé(e) le 02/03/2024" in chart
    tenancy.activate(world.practice_a.pk)
    (event,) = events("patient.death_recorded")
    assert (event.actor_id, event.patient_id) == (world.sam.pk, world.paul.pk)
    assert IdentityChange.objects.get().kind == IdentityChange.Kind.DEATH


def test_the_death_page_without_the_confirmation_says_so(client: Client, world: World) -> None:
    sam = login(client, world.sam)
    response = sam.post(
        page(world, world.paul, "deces/"), {"version": "1", "deceased_on": "2024-03-02"}
    )
    assert response.status_code == 400
    assert "Cochez la case pour confirmer" in response.content.decode()


def test_withdrawing_a_death_recorded_by_mistake_needs_a_reason(world: World) -> None:
    record_death(world, world.sam, deceased_on=date(2024, 3, 2), confirmed=True)
    with pytest.raises(ValidationError) as refused:
        record_death(world, world.sam, deceased_on=None, confirmed=True)
    assert "reason" in refused.value.message_dict
    record_death(world, world.sam, deceased_on=None, confirmed=True, reason="Homonyme")
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).deceased_on is None
    assert [e.details for e in events("patient.death_recorded")] == [{}, {"withdrawn": True}]


# --- GP of record ---------------------------------------------------------------------


def change_gp(world: World, person, gp_id, since, **extra):
    tenancy.activate(world.practice_a.pk, person.pk)
    paul = Patient.objects.get(pk=world.paul.pk)
    return services.patient_gp_change(
        actor=world.actor(person),
        access=access_for(paul),
        expected_version=extra.pop("version", paul.version),
        gp_id=gp_id,
        since=since,
        **extra,
    )


def test_changing_the_gp_keeps_the_date_and_the_new_gp_joins_the_care_team(
    world: World,
) -> None:
    since = timezone.localdate() - timedelta(days=3)
    change_gp(world, world.sam, world.bob.pk, since, reason="Déclaration signée")
    tenancy.activate(world.practice_a.pk)
    paul = Patient.objects.get(pk=world.paul.pk)
    assert (paul.gp_id, paul.gp_since) == (world.bob.pk, since)
    team = set(CareTeamMember.objects.filter(patient=paul).values_list("person_id", flat=True))
    assert team == {world.alice.pk, world.bob.pk}  # the former GP stays until removed
    change = IdentityChange.objects.get()
    assert change.changes["gp"] == ["Dr Alice Arnaud", "Dr Bob Blanc"]
    assert change.effective_on == since
    (event,) = events("patient.gp_changed")
    assert event.target == f"person:{world.bob.pk}"
    (added,) = events("care_team.add")
    assert added.target == f"person:{world.bob.pk}"
    # Bob now reads Paul's clinical record as his GP, without emergency access.
    services.consultation_record(
        actor=world.actor(world.bob), access=access_for(paul), reason="Premier rendez-vous"
    )
    tenancy.activate(world.practice_a.pk)
    assert Encounter.objects.get().author_id == world.bob.pk


@pytest.mark.parametrize("who", ["nurse", "charlie"])
def test_only_a_doctor_of_the_practice_can_be_gp_of_record(world: World, who: str) -> None:
    tenancy.activate(world.practice_a.pk)
    if who == "nurse":
        person = PersonFactory(profession="nurse")
        MembershipFactory(practice=world.practice_a, person=person, role="practitioner")
    else:
        person = world.charlie
    with pytest.raises(ValidationError) as refused:
        change_gp(world, world.sam, person.pk, timezone.localdate())
    assert "gp" in refused.value.message_dict
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).gp_id == world.alice.pk


def test_the_gp_page_changes_the_gp_and_the_chart_says_since_when(
    client: Client, world: World
) -> None:
    sam = login(client, world.sam)
    response = sam.post(
        page(world, world.paul, "medecin-traitant/"),
        {"version": "1", "gp": str(world.bob.pk), "since": "2025-01-06"},
    )
    assert response.status_code == 302
    chart = sam.get(page(world, world.paul)).content.decode()
    assert "Dr Bob Blanc (depuis le 06/01/2025)" in chart
    future = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = sam.post(
        page(world, world.paul, "medecin-traitant/"),
        {"version": "2", "gp": "none", "since": future},
    )
    assert response.status_code == 400
    assert "date future" in response.content.decode()


# --- merge ----------------------------------------------------------------------------


@pytest.fixture
def twin(world: World) -> Patient:
    """A duplicate of Paul (typo in the name), with a consultation of its own."""
    tenancy.activate(world.practice_a.pk)
    twin = PatientFactory(
        practice=world.practice_a,
        gp=world.alice,
        birth_name="Dupond",
        given_names="Paul",
        birth_date=world.paul.birth_date,
        nir="",
    )
    services.consultation_record(
        actor=world.actor(world.alice), access=access_for(twin), reason="Vu sous le doublon"
    )
    return twin


def test_the_merge_page_offers_the_lookalike_previews_then_merges_after_confirmation(
    client: Client, world: World, twin: Patient
) -> None:
    alice = login(client, world.alice)
    path = page(world, world.paul, "fusionner/")
    start = alice.get(path).content.decode()
    assert f"?duplicate={twin.pk}" in start and "DUPOND Paul" in start
    preview = alice.get(f"{path}?duplicate={twin.pk}")
    assert preview.status_code == 200
    body = preview.content.decode()
    assert 'data-testid="merge-preview"' in body
    assert "Consultations : 1" in body and "1 entrée passe en tout" in body
    unconfirmed = alice.post(path, {"duplicate": twin.pk, "reason": "Faute de frappe"})
    assert unconfirmed.status_code == 400
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=twin.pk).merged_into_id is None
    no_reason = alice.post(path, {"duplicate": twin.pk, "confirmed": "on"})
    assert no_reason.status_code == 400
    tenancy.activate(world.practice_a.pk)
    versions = dict(
        Patient.objects.filter(pk__in=[world.paul.pk, twin.pk]).values_list("pk", "version")
    )
    tenancy.activate(None)
    done = alice.post(path, {"duplicate": twin.pk, "reason": "Faute de frappe", "confirmed": "on"})
    assert done.status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=twin.pk).merged_into_id == world.paul.pk
    # Both records changed: a new version (and so a new FHIR ETag) each.
    after = dict(
        Patient.objects.filter(pk__in=[world.paul.pk, twin.pk]).values_list("pk", "version")
    )
    assert after == {pk: version + 1 for pk, version in versions.items()}
    assert Encounter.objects.get().patient_id == world.paul.pk
    assert {e.patient_id for e in events("patient.merge")} == {world.paul.pk, twin.pk}
    chart = alice.get(page(world, world.paul)).content.decode()
    assert "Dossier en double fusionné" in chart and "Faute de frappe" in chart


def test_merging_a_record_into_itself_is_a_clear_error(client: Client, world: World) -> None:
    alice = login(client, world.alice)
    path = page(world, world.paul, "fusionner/")
    response = alice.get(f"{path}?duplicate={world.paul.pk}")
    assert response.status_code == 400
    assert "ne peut pas être fusionné avec lui-même" in response.content.decode()
    response = alice.post(
        path,
        {"duplicate": world.paul.pk, "reason": "x", "confirmed": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "cannot be merged into itself" in response.content.decode()
    with pytest.raises(ValidationError):
        services.patient_merge(
            actor=world.actor(world.alice), keep=world.paul, duplicate=world.paul, reason="x"
        )


def test_merging_an_already_merged_record_is_a_clear_error(
    client: Client, world: World, twin: Patient
) -> None:
    services.patient_merge(
        actor=world.actor(world.alice), keep=world.paul, duplicate=twin, reason="Doublon"
    )
    alice = login(client, world.alice)
    response = alice.post(
        page(world, world.paul, "fusionner/"),
        {"duplicate": twin.pk, "reason": "encore", "confirmed": "on"},
    )
    assert response.status_code == 400
    assert "déjà été fusionné" in response.content.decode()
    assert len(events("patient.merge")) == 2  # the first merge only


def test_the_merge_page_does_not_list_a_lookalike_who_excluded_the_practitioner(
    client: Client, world: World, twin: Patient
) -> None:
    tenancy.activate(world.practice_a.pk, world.sam.pk)
    choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=twin.pk,
        person_id=world.alice.pk,
        source="formulaire signé",
    )
    alice = login(client, world.alice)
    start = alice.get(page(world, world.paul, "fusionner/")).content.decode()
    assert "DUPOND" not in start
    assert alice.get(page(world, world.paul, f"fusionner/?duplicate={twin.pk}")).status_code == 403


def test_a_duplicate_of_another_practice_is_not_found(client: Client, world: World) -> None:
    alice = login(client, world.alice)
    response = alice.get(page(world, world.paul, f"fusionner/?duplicate={world.zoe.pk}"))
    assert response.status_code == 404


# --- the access report ----------------------------------------------------------------


def test_the_access_report_says_in_words_what_changed_and_who(world: World) -> None:
    correct(world, world.sam, address="1 place Bellecour")
    change_gp(world, world.sam, world.bob.pk, timezone.localdate())
    record_death(world, world.sam, deceased_on=date(2024, 3, 2), confirmed=True)
    tenancy.activate(world.practice_a.pk)
    twin = PatientFactory(practice=world.practice_a, birth_name="Dupond", nir="", gp=world.alice)
    services.patient_merge(
        actor=world.actor(world.alice), keep=world.paul, duplicate=twin, reason="Doublon"
    )
    # The care-team pages record their removals so, target person:<id>.
    from core.audit.services import record_event

    tenancy.activate(world.practice_a.pk, world.sam.pk)
    record_event(
        "care_team.remove",
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        target=f"person:{world.alice.pk}",
    )
    with translation.override("fr"):
        _patient, lines = access_report(actor=world.actor(world.sam), patient_id=world.paul.pk)
        said = [(line.who, line.what) for line in lines]
    sam, alice = "Sam Simon, secrétaire", "Dr Alice Arnaud, médecin généraliste"
    assert (sam, "a corrigé votre identité : adresse") in said
    assert (sam, "a changé votre médecin traitant") in said
    assert (sam, "a ajouté Dr Bob Blanc à votre équipe de soins") in said
    assert (sam, "a enregistré le décès") in said
    assert (alice, "a fusionné votre dossier avec un doublon") in said
    assert (sam, "a retiré Dr Alice Arnaud de votre équipe de soins") in said
    # Each change is said once, by what it changed: no vaguer line beside it.
    assert not [what for _who, what in said if what == "a mis à jour votre dossier"]
    with translation.override("en"):
        _patient, lines = access_report(actor=world.actor(world.sam), patient_id=world.paul.pk)
    assert "corrected your identity: address" in [line.what for line in lines]


def test_the_printed_access_report_lists_the_correction_in_french(
    client: Client, world: World
) -> None:
    from tests.records.test_views import pdf_text

    correct(world, world.sam, phone="0478123456")
    sam = login(client, world.sam)
    text = pdf_text(sam.get(page(world, world.paul, "acces.pdf")).content)
    assert "Sam Simon, secrétaire a corrigé votre identité : téléphone" in text
    assert "(identity)" not in text and "corrected" not in text
