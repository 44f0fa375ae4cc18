"""The practice's own fee schedule: dated tariffs over the shipped ones, a nurse's home
visit (AMI with its coefficient, IFD, IK per km), nothing billed ever repriced, imports
all or nothing with numbered lines, each practice its own schedule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, ProgrammingError, transaction
from django.utils import translation

from billing import fees
from billing.models import Invoice, InvoiceLine, Issuer, PracticeTariff
from billing.pricing import Coverage
from billing.services import (
    LineInput,
    TariffInput,
    invoice_draft,
    invoice_issue,
    issuer_for,
    tariff_set,
    tariffs_import,
)
from core import tenancy
from core.access.services import AccessDenied
from core.accounts.models import Person
from core.audit.models import AuditEvent
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World

OCTOBER = date(2026, 10, 5)
NEW_TARIFF = date(2026, 11, 1)
NOVEMBER = date(2026, 11, 10)

HEADER = (
    "country,nomenclature,code,label,kind,valid_from,valid_to,amount,amo_rate,"
    "min_age,max_age,source,profession\n"
)
NOVEMBER_FILE = (
    HEADER
    + "FR,NGAP,AMI,Acte médical infirmier,key,2026-11-01,,3.30,60,,,avenant (exemple),nurse\n"
    + "FR,NGAP,IFD,Indemnité de déplacement,modifier,2026-11-01,,4.00,60,,,avenant (ex.),nurse\n"
).encode()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are asserted in English (the French ones are the translations)."""
    with translation.override("en"):
        yield


@pytest.fixture
def nina(billing_world: World) -> Person:
    """Nina, a nurse of practice A."""
    tenancy.activate(billing_world.practice_a.pk)
    person = PersonFactory(username="nina", full_name="Nina Noël", profession="nurse")
    MembershipFactory(practice=billing_world.practice_a, person=person, role="practitioner")
    tenancy.activate(None)
    return person


@pytest.fixture
def ada(billing_world: World) -> Person:
    """Ada, the administrator of practice A."""
    tenancy.activate(billing_world.practice_a.pk)
    person = PersonFactory(username="ada", full_name="Ada Admin")
    MembershipFactory(practice=billing_world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return person


def home_visit(world: World, nurse: Person, day: date, *lines: LineInput) -> Invoice:
    """A nurse's home visit: AMI 4, the travel allowance and 12 km of IK, issued."""
    actor = world.actor(nurse)
    issuer = issuer_for(Person.objects.get(pk=nurse.pk))
    draft = invoice_draft(
        actor=actor,
        issuer=issuer,
        patient_id=world.paul.pk,
        birth_date=world.paul.birth_date,
        service_date=day,
        lines=list(lines) or [LineInput("AMI4"), LineInput("IFD"), LineInput("IK", quantity=12)],
        coverage=Coverage(has_complementary=True),
    )
    return invoice_issue(actor=actor, invoice=draft)


def priced_lines(invoice: Invoice) -> list[tuple[str, str, int, Decimal]]:
    return [
        (line.code, line.coded, line.quantity, line.base_amount)
        for line in InvoiceLine.objects.filter(invoice_id=invoice.pk).order_by("position")
    ]


def test_a_home_visit_is_billed_at_the_tariffs_of_the_day_and_keeps_its_price(
    billing_world: World, nina: Person, ada: Person
) -> None:
    # Given a visit in October at the shipped tariffs (AMI 3.15, IFD 2.75, IK 0.35/km).
    october = home_visit(billing_world, nina, OCTOBER)
    assert priced_lines(october) == [
        ("AMI", "AMI 4", 1, Decimal("12.60")),
        ("IFD", "IFD", 1, Decimal("2.75")),
        ("IK", "IK", 12, Decimal("4.20")),
    ]
    assert october.total == Decimal("19.55")
    assert october.amo_amount == Decimal("11.73")  # 60 % for nursing care
    # When the administrator imports the new tariffs from 1 November: preview, then apply.
    actor = billing_world.actor(ada)
    preview = tariffs_import(actor=actor, content=NOVEMBER_FILE, country="FR", apply=False)
    assert [number for number, _row in preview.rows] == [2, 3]
    assert not preview.applied
    assert not PracticeTariff.objects.exists()
    done = tariffs_import(actor=actor, content=NOVEMBER_FILE, country="FR", apply=True)
    assert done.applied
    assert AuditEvent.objects.filter(action="fee_schedule.import").count() == 1
    # Then the October invoice keeps its price, line by line, in the database.
    october.refresh_from_db()
    assert october.total == Decimal("19.55")
    assert priced_lines(october)[0][3] == Decimal("12.60")
    # A visit after the new date takes the new tariffs (AMI 4 x 3.30, IFD 4.00) ...
    november = home_visit(billing_world, nina, NOVEMBER)
    assert priced_lines(november) == [
        ("AMI", "AMI 4", 1, Decimal("13.20")),
        ("IFD", "IFD", 1, Decimal("4.00")),
        ("IK", "IK", 12, Decimal("4.20")),
    ]
    assert november.total == Decimal("21.40")
    # ... and a visit of a day before it, billed later, the tariffs of that day.
    late = home_visit(billing_world, nina, date(2026, 10, 20))
    assert late.total == Decimal("19.55")


def test_a_new_tariff_may_not_reprice_a_day_already_billed(
    billing_world: World, nina: Person, ada: Person
) -> None:
    home_visit(billing_world, nina, OCTOBER)
    retroactive = NOVEMBER_FILE.replace(b"2026-11-01,,3.30", b"2026-10-01,,3.30")
    with pytest.raises(ValidationError) as refused:
        tariffs_import(
            actor=billing_world.actor(ada), content=retroactive, country="FR", apply=True
        )
    messages = refused.value.message_dict["file"]
    assert len(messages) == 1
    assert messages[0].startswith("Line 2: AMI was billed on an issued invoice on 05/10/2026")
    assert not PracticeTariff.objects.exists()  # the IFD line was not stored either
    # A version starting after the last day billed is accepted.
    tariff_set(
        actor=billing_world.actor(ada),
        values=TariffInput(
            "NGAP",
            "AMI",
            "AMI",
            date(2026, 10, 6),
            Decimal("3.30"),
            "key",
            amo_rate=Decimal("60"),
            profession="nurse",
        ),
        country="FR",
    )
    assert fees.tariff_on(
        "AMI", date(2026, 10, 6), practice_id=billing_world.practice_a.pk, profession="nurse"
    ).amount == Decimal("3.30")


def test_the_database_refuses_to_change_a_tariff_an_issued_invoice_used(
    billing_world: World, nina: Person, ada: Person
) -> None:
    tariffs_import(actor=billing_world.actor(ada), content=NOVEMBER_FILE, country="FR", apply=True)
    home_visit(billing_world, nina, NOVEMBER)
    used = PracticeTariff.objects.get(code="AMI")
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeTariff.objects.filter(pk=used.pk).update(amount=Decimal("9.99"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeTariff.objects.filter(pk=used.pk).update(valid_to=date(2026, 11, 5))
    # Ending it after the last day billed is what a new version does: allowed.
    PracticeTariff.objects.filter(pk=used.pk).update(valid_to=date(2026, 11, 30))


def test_a_later_version_closes_the_previous_one(billing_world: World, ada: Person) -> None:
    actor = billing_world.actor(ada)
    first = tariff_set(
        actor=actor,
        values=TariffInput("NGAP", "G", "Consultation", date(2026, 1, 1), Decimal("31.00")),
        country="FR",
    )
    tariff_set(
        actor=actor,
        values=TariffInput("NGAP", "G", "Consultation", date(2026, 6, 1), Decimal("32.00")),
        country="FR",
    )
    first.refresh_from_db()
    assert first.valid_to == date(2026, 5, 31)
    a = billing_world.practice_a.pk
    assert fees.tariff_on("G", date(2026, 5, 31), practice_id=a).amount == Decimal("31.00")
    assert fees.tariff_on("G", date(2026, 6, 1), practice_id=a).amount == Decimal("32.00")
    assert fees.tariff_on("G", date(2025, 12, 31), practice_id=a).amount == Decimal("30.00")


def test_csv_errors_are_numbered_and_nothing_is_stored(billing_world: World, ada: Person) -> None:
    content = (
        HEADER
        + "FR,NGAP,AMI,Acte médical infirmier,key,2026-11-01,,3.30,60,,,x,nurse\n"
        + "FR,XYZ,IFD,Déplacement,modifier,2026-11-01,,4.00,60,,,x,nurse\n"
        + "FR,NGAP,IK,Kilomètres,distance,01/11/2026,,0.40,60,,,x,nurse\n"
        + "BE,INAMI,101032,Consultation,act,2026-11-01,,40.00,0,,,x,\n"
        + "FR,NGAP,AMI,Acte médical infirmier,key,2026-11-01,,3.30,60,,,x,nurse\n"
    ).encode()
    with pytest.raises(ValidationError) as refused:
        tariffs_import(actor=billing_world.actor(ada), content=content, country="FR", apply=True)
    messages = refused.value.message_dict["file"]
    assert [message.split(":")[0] for message in messages] == [
        "Line 3",
        "Line 4",
        "Line 5",
        "Line 6",
    ]
    assert "NGAP, CCAM" in messages[0]
    assert "YYYY-MM-DD" in messages[1]
    assert "BE" in messages[2]
    assert "line 2" in messages[3]
    assert not PracticeTariff.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"code,amount\nAMI,3\n", "missing columns: nomenclature, label, valid_from"),
        (HEADER.encode(), "The file has no tariff."),
        ("\u00e9".encode("latin-1") + HEADER.encode(), "UTF-8"),
        (HEADER.replace("source", "sourcee").encode(), "unknown columns: sourcee"),
    ],
)
def test_an_unreadable_file_is_refused_with_its_reason(
    billing_world: World, ada: Person, content: bytes, expected: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        tariffs_import(actor=billing_world.actor(ada), content=content, country="FR", apply=False)
    assert expected in " ".join(refused.value.messages)
    assert not PracticeTariff.objects.exists()


def test_another_practice_neither_sees_nor_uses_the_tariffs(
    billing_world: World, ada: Person
) -> None:
    tariff_set(
        actor=billing_world.actor(ada),
        values=TariffInput("NGAP", "G", "Consultation", date(2026, 1, 1), Decimal("31.00")),
        country="FR",
    )
    assert PracticeTariff.objects.count() == 1
    # Charlie, at practice B: row-level security hides the row, B bills the shipped G.
    billing_world.actor(billing_world.charlie, billing_world.practice_b)
    assert PracticeTariff.objects.count() == 0
    b = billing_world.practice_b.pk
    assert fees.tariff_on("G", date(2026, 3, 1), practice_id=b).amount == Decimal("30.00")
    # Naming practice A's id from practice B finds nothing either.
    a = billing_world.practice_a.pk
    assert fees.tariff_on("G", date(2026, 3, 1), practice_id=a).amount == Decimal("30.00")
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        PracticeTariff.objects.create(
            practice_id=a,
            nomenclature="NGAP",
            code="G",
            label="x",
            valid_from=date(2026, 2, 1),
            amount=Decimal("1"),
            recorded_by=billing_world.charlie,
        )


def test_a_secretary_or_a_practitioner_cannot_change_the_schedule(
    billing_world: World,
) -> None:
    values = TariffInput("NGAP", "G", "Consultation", date(2026, 1, 1), Decimal("31.00"))
    for person in (billing_world.sam, billing_world.alice):
        with pytest.raises(AccessDenied):
            tariff_set(actor=billing_world.actor(person), values=values, country="FR")
        with pytest.raises(AccessDenied):
            tariffs_import(
                actor=billing_world.actor(person), content=NOVEMBER_FILE, country="FR", apply=True
            )
    assert not PracticeTariff.objects.exists()
    assert AuditEvent.objects.filter(action="access.denied").count() == 4


def test_the_nurse_rules_ik_needs_a_visit_ifd_once_ami_needs_a_coefficient(
    billing_world: World, nina: Person
) -> None:
    def refused(*lines: LineInput) -> str:
        with pytest.raises(ValidationError) as error:
            home_visit(billing_world, nina, OCTOBER, *lines)
        return " ".join(error.value.messages)

    assert "IK requires one of: IFD, V" in refused(LineInput("AMI4"), LineInput("IK", quantity=5))
    assert "IFD is billed once per visit" in refused(
        LineInput("AMI4"), LineInput("IFD", quantity=2)
    )
    assert "AMI is a key letter" in refused(LineInput("AMI"))
    assert "IFD has no coefficient" in refused(
        LineInput("AMI1"), LineInput("IFD", coefficient=Decimal("2"))
    )
    assert "kilometres, 1 to 999" in refused(
        LineInput("AMI1"), LineInput("IFD"), LineInput("IK", quantity=1000)
    )
    assert not Invoice.objects.exists()


def test_a_gp_does_not_bill_a_nurse_code_and_keeps_the_doctors_tariffs(
    billing_world: World, alice_issuer: Issuer
) -> None:
    actor = billing_world.actor(billing_world.alice)
    with pytest.raises(ValidationError) as error:
        invoice_draft(
            actor=actor,
            issuer=alice_issuer,
            patient_id=billing_world.paul.pk,
            birth_date=billing_world.paul.birth_date,
            service_date=OCTOBER,
            lines=[LineInput("AMI4")],
            coverage=Coverage(),
        )
    assert "AMI4" in " ".join(error.value.messages)
