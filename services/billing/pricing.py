"""The price of an invoice and its split between the mandatory insurer (AMO), the
complementary insurer (AMC) and the patient. Pure functions: no database.

Rules (France, general practice):
- base = sum of the tariffs of the acts and majorations; excess fees (dépassements) are
  on top and never reimbursed by the AMO;
- AMO = base x rate (70 % usually, 100 % for a long-term condition (ALD)), minus the
  patient contribution (participation forfaitaire: 2 € since 15 May 2024, 1 € before;
  not for minors or exempted patients);
- AMC = the rest of the base (ticket modérateur) when the patient has a complementary
  insurer, plus the excess fees if the contract covers them;
- outside the coordinated care pathway (hors parcours de soins: the patient saw a
  doctor who is not their declared médecin traitant, without being referred, outside
  the exceptions), the AMO reimburses 30 % instead of 70 % (majoration du ticket
  modérateur, ALD included); a complementary insurer's "contrat responsable" does not
  cover that difference, so the AMC pays only what it would have paid in the pathway;
- the patient bears the rest;
- at the desk the patient pays the total minus what third-party payment covers: with
  AMO third-party payment the insurer pays its share and recovers the contribution
  later, so neither is paid at the desk.
Money is Decimal, rounded half-up to the cent once per line.

Belgium (``split_be``, for a practice whose country is BE; none of the French rules
above apply to it): each INAMI act has a fee and two reimbursement amounts, one for a
patient with preferential status (BIM, intervention majorée) and one for the others.
The mutualité reimburses that amount; the patient's co-payment (ticket modérateur) is
the difference between fee and reimbursement; a supplement above the fee is the
patient's. No participation forfaitaire, no complementary insurer, no care pathway.
With third-party payment (régime du tiers payant) the mutualité pays its share directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")

# (valid from, amount): the participation forfaitaire per consultation.
PATIENT_CONTRIBUTION = [(date(2004, 1, 1), Decimal("1.00")), (date(2024, 5, 15), Decimal("2.00"))]

# The AMO's rate outside the coordinated care pathway (percent, since 2009).
OUTSIDE_PATHWAY_RATE = Decimal("30")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def contribution_on(day: date) -> Decimal:
    amount = ZERO
    for start, value in PATIENT_CONTRIBUTION:
        if day >= start:
            amount = value
    return amount


@dataclass(frozen=True)
class PricedLine:
    code: str
    base: Decimal  # tariff x quantity
    excess: Decimal
    amo_rate: Decimal  # percent
    # Belgium: the mutualité's reimbursement of this line, without and with BIM status.
    refund_regular: Decimal | None = None
    refund_preferential: Decimal | None = None

    @property
    def charged(self) -> Decimal:
        return self.base + self.excess


@dataclass(frozen=True)
class Coverage:
    long_term_condition: bool = False
    has_complementary: bool = False
    complementary_covers_excess: bool = False
    contribution_exempt: bool = False  # minor, pregnancy, CSS...
    third_party_amo: bool = False
    third_party_amc: bool = False
    outside_pathway: bool = False  # hors parcours de soins
    preferential: bool = False  # Belgium: BIM (intervention majorée)


@dataclass(frozen=True)
class Split:
    total: Decimal
    amo: Decimal
    amc: Decimal
    patient: Decimal
    contribution: Decimal
    due_at_desk: Decimal


def split(lines: list[PricedLine], coverage: Coverage, service_date: date) -> Split:
    base = sum((line.base for line in lines), ZERO)
    excess = sum((line.excess for line in lines), ZERO)
    total = base + excess
    amo_gross = ZERO
    amo_in_pathway = ZERO  # what the AMO would have paid in the pathway
    for line in lines:
        rate = HUNDRED if coverage.long_term_condition and line.amo_rate > 0 else line.amo_rate
        amo_in_pathway += cents(line.base * rate / HUNDRED)
        if coverage.outside_pathway and line.amo_rate > 0:
            rate = min(rate, OUTSIDE_PATHWAY_RATE)
        amo_gross += cents(line.base * rate / HUNDRED)
    contribution = ZERO
    if amo_gross > 0 and not coverage.contribution_exempt:
        contribution = min(contribution_on(service_date), amo_gross)
    amo = amo_gross - contribution
    amc = ZERO
    if coverage.has_complementary:
        amc = base - amo_in_pathway  # never the pathway's penalty
        if coverage.complementary_covers_excess:
            amc += excess
    patient = total - amo - amc
    due = total
    if coverage.third_party_amo:
        due -= amo + contribution
    if coverage.third_party_amc:
        due -= amc
    return Split(
        total=cents(total),
        amo=cents(amo),
        amc=cents(amc),
        patient=cents(patient),
        contribution=cents(contribution),
        due_at_desk=cents(max(due, ZERO)),
    )


def split_be(lines: list[PricedLine], coverage: Coverage) -> Split:
    """The Belgian split: the mutualité's reimbursement (``amo``), the ticket modérateur
    and any supplement (``patient``); ``amc`` and ``contribution`` are always zero."""
    total = sum((line.charged for line in lines), ZERO)
    refund = ZERO
    for line in lines:
        amount = line.refund_preferential if coverage.preferential else line.refund_regular
        refund += min(amount or ZERO, line.base)
    refund = cents(refund)
    due = total - refund if coverage.third_party_amo else total
    return Split(
        total=cents(total),
        amo=refund,
        amc=ZERO,
        patient=cents(total - refund),
        contribution=ZERO,
        due_at_desk=cents(max(due, ZERO)),
    )
