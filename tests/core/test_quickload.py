"""Instances made by ``core.quickload.QuickLoad`` equal Django's own, field for field."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_init

from core import tenancy
from core.accounts.models import Person
from core.practices.models import Practice
from core.quickload import QuickLoad, _plan
from records.models import Patient
from tests.fixtures import World


def djangos(obj: models.Model, names: list[str] | None = None) -> dict[str, Any]:
    """The instance Django's own ``from_db`` makes from the same row."""
    cls = type(obj)
    every = [f.attname for f in cls._meta.concrete_fields]
    names = names or every
    values = [obj.__dict__[name] for name in every if name in names]
    made = models.Model.from_db.__func__(cls, obj._state.db, names, values)  # type: ignore[attr-defined]
    return fields_and_state(made)


def fields_and_state(obj: models.Model) -> dict[str, Any]:
    found = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    found["_state"] = (obj._state.adding, obj._state.db)
    return found


def test_the_hot_models_load_quickly(db: None) -> None:
    """A field stored otherwise than as is, added to one of them, would silently bring
    back Django's way: this says so."""
    from agenda.models import Appointment, AppointmentType, Site
    from records.models import Encounter, Observation, Prescription, PrescriptionItem

    hot = (Patient, Person, Practice, Appointment, AppointmentType, Site)
    for model in (*hot, Encounter, Observation, Prescription, PrescriptionItem):
        assert issubclass(model, QuickLoad)
        assert model.from_db.__func__ is QuickLoad.from_db.__func__  # type: ignore[attr-defined]
        assert _plan(model) is not None, model


def test_a_whole_row_makes_the_instance_django_makes(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    patient = Patient.objects.select_related("gp", "practice").get(pk=world.paul.pk)
    assert fields_and_state(patient) == djangos(patient)
    assert fields_and_state(patient.gp) == djangos(patient.gp)
    assert fields_and_state(patient.practice) == djangos(patient.practice)
    assert patient._state.adding is False and patient._state.db == "default"
    assert patient == Patient(pk=world.paul.pk)


def test_a_deferred_load_makes_the_instance_django_makes(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    patient = Patient.objects.only("birth_name", "birth_date").get(pk=world.paul.pk)
    loaded = ["id", "birth_name", "birth_date"]
    assert set(fields_and_state(patient)) == {*loaded, "_state"}
    assert fields_and_state(patient) == djangos(patient, loaded)
    assert patient.get_deferred_fields() >= {"given_names", "practice_id"}
    # A deferred field is read when asked for, as Django does.
    assert patient.given_names == world.paul.given_names


def test_an_instance_loaded_saves_as_an_update(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    before = Patient.objects.count()
    patient = Patient.objects.get(pk=world.paul.pk)
    patient.phone = "06 12 34 56 78"
    patient.save(update_fields=["phone"])
    assert Patient.objects.count() == before
    assert Patient.objects.get(pk=world.paul.pk).phone == "06 12 34 56 78"


def test_a_model_someone_listens_to_loads_djangos_way(world: World) -> None:
    seen: list[models.Model] = []

    def receiver(sender: type, instance: models.Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Practice)
    try:
        practice = Practice.objects.get(pk=world.practice_a.pk)
    finally:
        post_init.disconnect(receiver, sender=Practice)
    assert seen == [practice]
    assert fields_and_state(practice) == djangos(practice)
