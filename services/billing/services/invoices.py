"""Invoices: drafting from acts, issuing with a gapless number, crediting.

Where is the invoice number assigned? In ``invoice_issue``: the issuer's counter row is
locked, incremented and the invoice updated in the same transaction, so numbers are
contiguous and unique even with many people issuing at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import fees, pricing
from billing.models import (
    Act,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Issuer,
    Pathway,
    PracticeTariff,
)
from core.access.policy import Actor
from core.accounts.models import Person
from core.audit.services import record_event
from core.practices.selectors import country_of
from core.prepared import Prepared
from records.selectors.billing import check_national_number, is_billable_encounter

BillingError = ValidationError


@dataclass(frozen=True)
class LineInput:
    """One act as entered. ``coefficient`` is a key letter's (AMI 4); written "AMI4" in
    ``code`` it is read from there. ``quantity`` is the number of kilometres of an IK."""

    code: str
    quantity: int = 1
    excess: Decimal = Decimal("0")
    coefficient: Decimal | None = None


# "AMI4", "AMK7.5", "SF12,5": a key letter followed by its coefficient.
KEY_AND_COEFFICIENT = re.compile(r"^([A-Z][A-Z.]*?)(\d+(?:[.,]\d{1,2})?)$")
MAX_COEFFICIENT = Decimal("100")
# The participation forfaitaire is taken on a doctor's acts only (not a nurse's, a
# physiotherapist's or a midwife's); an issuer without a profession is billed as before.
CONTRIBUTION_PROFESSIONS = {"", "gp", "physician"}
MAX_KILOMETRES = 999


@dataclass
class Draft:
    """A checked set of lines, ready to be stored (each line with its coefficient)."""

    acts: list[tuple[fees.Tariff, LineInput]] = field(default_factory=list)
    priced: list[pricing.PricedLine] = field(default_factory=list)


# Read on every invoice issued: compiled once (core.prepared).
_ISSUER = Prepared(lambda person: Issuer.objects.filter(person_id=person).order_by("pk")[:1])
_DRAFT_LOCKED = Prepared(
    lambda invoice: (
        Invoice.objects.select_for_update(of=("self",)).select_related("issuer").filter(pk=invoice)
    )
)


def issuer_for(person: Person) -> Issuer:
    """The practitioner's own issuer (numbering series), created on first use."""
    issuer = _ISSUER.first(person=person.pk)
    if issuer is not None:
        issuer.person = person  # known: its profession prices the line without a query
    if issuer is None:
        issuer = Issuer.objects.create(
            kind=Issuer.Kind.PRACTITIONER,
            person=person,
            name=person.full_name,
            sector=Issuer.Sector.SECTOR_1,
            prefix=f"P{person.pk:05d}-",
        )
    return issuer


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def check_lines(
    lines: list[LineInput],
    *,
    service_date: date,
    issuer: Issuer,
    birth_date: date | None,
    country: str = "FR",
    practice_id: int | None = None,
) -> Draft:
    """Every rule that makes a set of acts billable. Raises with all the problems."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not lines:
        add("lines", _("Add at least one act."))
    draft = Draft()
    schedule = fees.Schedule(practice_id, service_date, country)
    profession = _profession(issuer)
    for index, line in enumerate(lines):
        key = f"lines.{index}"
        if line.excess < 0:
            add(key, _("An amount cannot be negative."))
            continue
        act, line = _tariff_of(schedule, line, profession)
        if act is None and country != "FR" and fees.act_valid_on(line.code, service_date, "FR"):
            add(
                key,
                _("%(code)s is a French (NGAP/CCAM) code: a Belgian practice bills INAMI codes.")
                % {"code": line.code.strip().upper()},
            )
            continue
        if act is None:
            add(
                key,
                _("Unknown act code, or not valid on %(day)s: %(code)s.")
                % {"day": service_date.strftime("%d/%m/%Y"), "code": line.code},
            )
            continue
        age = _age(birth_date, service_date) if birth_date else None
        if age is not None and act.max_age is not None and age >= act.max_age:
            add(
                key,
                _("%(code)s is for patients under %(age)s.")
                % {"code": act.code, "age": act.max_age},
            )
        if age is not None and act.min_age is not None and age < act.min_age:
            add(
                key,
                _("%(code)s is for patients aged %(age)s or more.")
                % {"code": act.code, "age": act.min_age},
            )
        if act.kind == Act.Kind.EXCESS and line.excess <= 0:
            add(key, _("Give the amount of the excess fee."))
        problem = _quantity_problem(act, line)
        if problem:
            add(key, problem)
            continue
        draft.acts.append((act, line))
    codes = {act.code for act, _line in draft.acts}
    for rule in fees.rules_valid_on(service_date):
        if rule.code not in codes:
            continue
        same = [(act, line) for act, line in draft.acts if act.code == rule.code]
        if rule.kind == "single" and (
            len(same) > 1
            or any(line.quantity > 1 for act, line in same if act.kind != Act.Kind.DISTANCE)
        ):
            add("lines", _("%(code)s is billed once per visit.") % {"code": rule.code})
        if rule.kind == "requires" and not codes & set(rule.others):
            add(
                "lines",
                _("%(code)s requires one of: %(others)s.")
                % {"code": rule.code, "others": ", ".join(rule.others)},
            )
        if rule.kind == "excludes" and codes & set(rule.others):
            add(
                "lines",
                _("%(code)s cannot be billed with %(others)s.")
                % {"code": rule.code, "others": ", ".join(sorted(codes & set(rule.others)))},
            )
    # Excess fees: sector 2 (with or without OPTAM) may charge them on an act, "with tact
    # and measure"; in sector 1 only the DE code, for a patient's particular demand.
    for index, (act, line) in enumerate(draft.acts if country == "FR" else []):
        if line.excess > 0 and act.kind != Act.Kind.EXCESS and issuer.sector not in ("2", "optam"):
            add(
                f"lines.{index}",
                _(
                    "Excess fees are not allowed in sector 1 on %(code)s: "
                    "use DE for a particular demand of the patient."
                )
                % {"code": act.code},
            )
        if issuer.sector == "2" and act.code == "G" and line.excess > 0:
            add(
                f"lines.{index}", _("In sector 2 without OPTAM, bill C with the excess fee, not G.")
            )
    if errors:
        raise ValidationError(errors)
    for act, line in draft.acts:
        draft.priced.append(
            pricing.PricedLine(
                code=act.code,
                base=pricing.cents(act.amount * (line.coefficient or 1) * line.quantity),
                excess=pricing.cents(line.excess),
                amo_rate=act.amo_rate,
                refund_regular=_times(act.refund_regular, line.quantity),
                refund_preferential=_times(act.refund_preferential, line.quantity),
            )
        )
    return draft


def lines_from_text(text: str) -> list[LineInput]:
    """The acts as typed at the desk: codes separated by spaces; a key letter with its
    coefficient ("AMI4"); a quantity after a star ("IK*12": 12 km of IK)."""
    lines = []
    for token in text.upper().split():
        code, star, quantity = token.replace("\u00d7", "*").partition("*")
        if star and quantity.isdigit() and code:
            lines.append(LineInput(code, quantity=int(quantity)))
        else:
            lines.append(LineInput(token))
    return lines


def _profession(issuer: Issuer) -> str:
    return issuer.person.profession if issuer.person_id and issuer.person else ""


def _tariff_of(
    schedule: fees.Schedule, line: LineInput, profession: str
) -> tuple[fees.Tariff | None, LineInput]:
    """The tariff of the line's code; "AMI4" is the key letter AMI with coefficient 4
    (a code that exists as written, such as DEQP003 or 101032, is always that code)."""
    act = schedule.tariff(line.code, profession)
    if act is not None or line.coefficient is not None:
        return act, line
    match = KEY_AND_COEFFICIENT.match(line.code.strip().upper())
    if match is None:
        return None, line
    letter = schedule.tariff(match[1], profession)
    if letter is None or letter.kind != Act.Kind.KEY:
        return None, line
    coefficient = Decimal(match[2].replace(",", "."))
    return letter, LineInput(match[1], line.quantity, line.excess, coefficient)


def _quantity_problem(act: fees.Tariff, line: LineInput) -> str:
    """What is wrong with the line's quantity or coefficient for this kind of act."""
    if act.kind == Act.Kind.DISTANCE:
        if not 1 <= line.quantity <= MAX_KILOMETRES:
            return _("Give the distance of %(code)s in kilometres, 1 to %(max)s.") % {
                "code": act.code,
                "max": MAX_KILOMETRES,
            }
    elif not 1 <= line.quantity <= 20:
        return _("The quantity is 1 to 20.")
    if act.kind == Act.Kind.KEY:
        try:
            ok = line.coefficient is not None and 0 < line.coefficient <= MAX_COEFFICIENT
        except InvalidOperation:
            ok = False
        if not ok:
            return _(
                "%(code)s is a key letter: give its coefficient, e.g. %(code)s4 for %(code)s 4."
            ) % {"code": act.code}
    elif line.coefficient not in (None, Decimal("1")):
        return _("%(code)s has no coefficient.") % {"code": act.code}
    return ""


def _times(amount: Decimal | None, quantity: int) -> Decimal | None:
    return None if amount is None else pricing.cents(amount * quantity)


def _check_encounter(patient_id: int, encounter_id: int | None) -> None:
    """An invoice names only a consultation of its patient in this practice (the
    database checks it too: billing migration 0004)."""
    if encounter_id is None:
        return
    if not 0 < encounter_id < 2**63 or not is_billable_encounter(
        patient_id=patient_id, encounter_id=encounter_id
    ):
        raise ValidationError(
            {
                "encounter": _(
                    "This consultation is not one of this patient's in this practice:"
                    " bill it from the patient's own consultation, or name none."
                )
            }
        )


@transaction.atomic
def invoice_draft(
    *,
    actor: Actor,
    issuer: Issuer,
    patient_id: int,
    birth_date: date,
    service_date: date,
    lines: list[LineInput],
    coverage: pricing.Coverage,
    encounter_id: int | None = None,
    pathway: str = "",
    country: str | None = None,
    national_number: str = "",
) -> Invoice:
    """``country`` is the practice's (pages and the API have the practice at hand); read
    from the practice when not given. ``national_number`` is the patient's recorded
    identifier: a Belgian practice refuses to bill under anything but a valid NISS."""
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    if service_date > timezone.localdate():
        raise ValidationError({"service_date": _("The date of service cannot be in the future.")})
    _check_encounter(patient_id, encounter_id)
    if pathway not in Pathway.values:
        raise ValidationError({"pathway": _("Choose how the patient came, on the care pathway.")})
    # The practice's country decides the nomenclature and the rules: a Belgian practice
    # bills INAMI acts priced by the Belgian split, never the French one.
    country = (country or country_of(actor.practice_id)).upper()
    check_national_number(national_number, country)
    draft = check_lines(
        lines,
        service_date=service_date,
        issuer=issuer,
        birth_date=birth_date,
        country=country,
        practice_id=actor.practice_id,
    )
    if country == "BE":
        split = pricing.split_be(draft.priced, coverage)
        pathway = ""
    else:
        exempt = (
            coverage.contribution_exempt
            or _age(birth_date, service_date) < 18
            or _profession(issuer) not in CONTRIBUTION_PROFESSIONS
        )
        coverage = pricing.Coverage(
            **{
                **coverage.__dict__,
                "contribution_exempt": exempt,
                "outside_pathway": pathway == Pathway.OUTSIDE,
            }
        )
        split = pricing.split(draft.priced, coverage, service_date)
    invoice = Invoice.objects.create(
        practice_id=actor.practice_id,
        issuer=issuer,
        patient_id=patient_id,
        encounter_id=encounter_id,
        service_date=service_date,
        total=split.total,
        amo_amount=split.amo,
        amc_amount=split.amc,
        patient_amount=split.patient,
        patient_contribution=split.contribution,
        due_at_desk=split.due_at_desk,
        long_term_condition=coverage.long_term_condition,
        has_complementary=coverage.has_complementary,
        third_party_amo=coverage.third_party_amo,
        third_party_amc=coverage.third_party_amc,
        pathway=pathway,
        created_by_id=actor.person_id,
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                practice_id=actor.practice_id,
                invoice=invoice,
                act=act if isinstance(act, Act) else None,
                tariff=act if isinstance(act, PracticeTariff) else None,
                code=act.code,
                label=act.label,
                quantity=line.quantity,
                coefficient=line.coefficient or Decimal("1"),
                base_amount=priced.base,
                charged_amount=priced.charged,
                excess_amount=priced.excess,
                amo_rate=priced.amo_rate,
                position=index,
            )
            for index, ((act, line), priced) in enumerate(
                zip(draft.acts, draft.priced, strict=True)
            )
        ]
    )
    record_event(
        "invoice.draft",
        actor=actor,
        patient_id=patient_id,
        category="administrative",
        purpose="billing",
        target=f"invoice:{invoice.pk}",
    )
    return invoice


def _next_number(issuer_id: int) -> int:
    """The issuer's next number, in one statement: the counter's row stays locked until
    the transaction ends, so two invoices of one issuer never get the same number and
    numbers have no gap (a rolled-back issue gives its number back)."""
    table = InvoiceCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (issuer_id, last_number) VALUES (%s, 1)"  # noqa: S608  # nosec B608
            f" ON CONFLICT (issuer_id) DO UPDATE SET last_number = {table}.last_number + 1"
            " RETURNING last_number",
            [issuer_id],
        )
        (number,) = cursor.fetchone()
    return int(number)


@transaction.atomic
def invoice_issue(*, actor: Actor, invoice: Invoice) -> Invoice:
    """Give the draft its number and freeze it (the database refuses later changes)."""
    locked = _DRAFT_LOCKED.first(invoice=invoice.pk)
    if locked is None:
        raise Invoice.DoesNotExist(f"invoice {invoice.pk}")
    if locked.status != Invoice.Status.DRAFT:
        raise ValidationError(_("This invoice is already issued."))
    number = _next_number(locked.issuer_id)
    locked.number = number
    locked.reference = f"{locked.issuer.prefix}{number:06d}"
    locked.status = Invoice.Status.ISSUED
    locked.issued_at = timezone.now()
    locked.save(update_fields=["number", "reference", "status", "issued_at"])
    record_event(
        "invoice.issue",
        actor=actor,
        patient_id=locked.patient_id,
        category="administrative",
        purpose="billing",
        target=f"invoice:{locked.reference}",
        details={"total": str(locked.total)},
    )
    return locked


@transaction.atomic
def credit_note_issue(*, actor: Actor, invoice: Invoice, reason: str) -> Invoice:
    """Cancel an issued invoice with a credit note of the same amounts."""
    if invoice.status != Invoice.Status.ISSUED or invoice.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("Only an issued invoice can be credited."))
    if invoice.credit_notes.exists():
        raise ValidationError(_("This invoice was already credited."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the invoice is cancelled.")})
    fields = {
        name: getattr(invoice, name)
        for name in (
            "practice_id",
            "issuer_id",
            "patient_id",
            "encounter_id",
            "service_date",
            "total",
            "amo_amount",
            "amc_amount",
            "patient_amount",
            "patient_contribution",
            "long_term_condition",
            "has_complementary",
            "third_party_amo",
            "third_party_amc",
            "due_at_desk",
        )
    }
    note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE,
        credited_invoice=invoice,
        note=reason[:300],
        created_by_id=actor.person_id,
        **fields,
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                practice_id=line.practice_id,
                invoice=note,
                act_id=line.act_id,
                tariff_id=line.tariff_id,
                code=line.code,
                label=line.label,
                quantity=line.quantity,
                coefficient=line.coefficient,
                base_amount=line.base_amount,
                charged_amount=line.charged_amount,
                excess_amount=line.excess_amount,
                amo_rate=line.amo_rate,
                position=line.position,
            )
            for line in invoice.lines.all()
        ]
    )
    return invoice_issue(actor=actor, invoice=note)
