from __future__ import annotations

from datetime import date

import factory

from core.accounts.models import Membership, Person
from core.practices.models import CooperativeMembership, Practice
from records import nir
from records.models import CareTeamMember, Patient
from tests.fixtures_password import PASSWORD


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"cabinet-{n}")
    name = factory.Sequence(lambda n: f"Cabinet {n}")
    city = "Lyon"
    membership = factory.RelatedFactory(
        "tests.factories.CooperativeMembershipFactory", factory_related_name="practice"
    )


class CooperativeMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CooperativeMembership

    status = CooperativeMembership.Status.ACTIVE


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    role = "practitioner"


class PatientFactory(factory.django.DjangoModelFactory):
    """A patient with a valid NIR. The practice context must be active (RLS)."""

    class Meta:
        model = Patient
        skip_postgeneration_save = True

    birth_name = "Martin"
    given_names = "Jeanne"
    sex = "F"
    birth_date = date(1970, 5, 17)
    nir = factory.Sequence(lambda n: nir.make("2", date(1970, 5, 17), "69123", n % 999 + 1))
    city = "Lyon"

    @factory.post_generation
    def care_team(obj, create, extracted, **kwargs):
        if create and obj.gp_id:
            CareTeamMember.objects.create(practice=obj.practice, patient=obj, person_id=obj.gp_id)


def submitted_application(practice_name: str, contact: str, street: str) -> int:
    """A practice that applied to join the cooperative and waits for the decision
    (through the public page's service, so it is valid); its id."""
    from core.practices.services.applications import (
        ApplicationInput,
        PractitionerEntry,
        application_submit,
    )

    email = contact.split()[-1].lower()
    application = application_submit(
        data=ApplicationInput(
            practice_name=practice_name,
            address=street,
            postal_code="38000",
            city="Grenoble",
            country="FR",
            plan="solo",
            shares=1,
            contact_name=contact,
            contact_email=f"jeanne.{email}@example.org",
            contact_phone="04 76 00 00 00",
            statutes_accepted=True,
            practitioners=(PractitionerEntry(contact, "gp"),),
        )
    )
    return application.pk
