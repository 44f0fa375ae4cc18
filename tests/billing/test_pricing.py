"""The split between the mandatory insurer, the complementary insurer and the patient."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing.pricing import Coverage, PricedLine, split

G = PricedLine(code="G", base=Decimal("30.00"), excess=Decimal("0"), amo_rate=Decimal("70"))
DAY = date(2025, 3, 10)


def test_a_gp_consultation_with_a_complementary_insurer() -> None:
    result = split([G], Coverage(has_complementary=True), DAY)
    assert (result.total, result.amo, result.amc, result.patient, result.contribution) == (
        Decimal("30.00"),
        Decimal("19.00"),
        Decimal("9.00"),
        Decimal("2.00"),
        Decimal("2.00"),
    )
    assert result.due_at_desk == Decimal("30.00")


def test_third_party_payment_leaves_nothing_to_pay_at_the_desk() -> None:
    result = split(
        [G], Coverage(has_complementary=True, third_party_amo=True, third_party_amc=True), DAY
    )
    assert result.due_at_desk == Decimal("0.00")


def test_third_party_amo_only_leaves_the_ticket_moderateur() -> None:
    result = split([G], Coverage(third_party_amo=True), DAY)
    assert (result.amo, result.patient, result.due_at_desk) == (
        Decimal("19.00"),
        Decimal("11.00"),
        Decimal("9.00"),
    )


def test_a_long_term_condition_is_covered_at_100_percent() -> None:
    result = split([G], Coverage(long_term_condition=True), DAY)
    assert (result.amo, result.amc, result.patient) == (
        Decimal("28.00"),
        Decimal("0.00"),
        Decimal("2.00"),
    )


def test_no_contribution_for_an_exempted_patient() -> None:
    result = split([G], Coverage(contribution_exempt=True, has_complementary=True), DAY)
    assert (result.amo, result.amc, result.patient) == (
        Decimal("21.00"),
        Decimal("9.00"),
        Decimal("0.00"),
    )


def test_the_contribution_was_one_euro_before_may_2024() -> None:
    assert split([G], Coverage(), date(2024, 5, 14)).contribution == Decimal("1.00")
    assert split([G], Coverage(), date(2024, 5, 15)).contribution == Decimal("2.00")


def test_excess_fees_are_never_reimbursed_by_the_amo() -> None:
    c = PricedLine(code="C", base=Decimal("23.00"), excess=Decimal("17.00"), amo_rate=Decimal("70"))
    result = split([c], Coverage(has_complementary=True), DAY)
    assert (result.total, result.amo, result.amc, result.patient) == (
        Decimal("40.00"),
        Decimal("14.10"),
        Decimal("6.90"),
        Decimal("19.00"),
    )
    covered = split([c], Coverage(has_complementary=True, complementary_covers_excess=True), DAY)
    assert covered.amc == Decimal("23.90") and covered.patient == Decimal("2.00")


amounts = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False, allow_infinity=False)


@given(
    st.lists(
        st.tuples(amounts, amounts, st.sampled_from([Decimal("0"), Decimal("70"), Decimal("100")])),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_the_split_always_adds_up(lines, ald, amc, exempt, tp_amo, tp_amc) -> None:
    priced = [PricedLine(code="X", base=b, excess=e, amo_rate=r) for b, e, r in lines]
    coverage = Coverage(
        long_term_condition=ald,
        has_complementary=amc,
        contribution_exempt=exempt,
        third_party_amo=tp_amo,
        third_party_amc=tp_amc,
    )
    result = split(priced, coverage, DAY)
    assert result.amo + result.amc + result.patient == result.total
    assert min(result.amo, result.amc, result.patient, result.due_at_desk) >= 0
    assert result.due_at_desk <= result.total
    for value in (result.total, result.amo, result.amc, result.patient, result.due_at_desk):
        assert value == value.quantize(Decimal("0.01"))


def test_outside_the_pathway_the_amo_pays_30_percent_and_the_amc_not_the_difference() -> None:
    g = [PricedLine("G", Decimal("30.00"), Decimal("0"), Decimal("70"))]
    day = date(2026, 12, 1)
    inside = split(g, Coverage(has_complementary=True), day)
    outside = split(g, Coverage(has_complementary=True, outside_pathway=True), day)
    assert (inside.amo, inside.amc, inside.patient) == (
        Decimal("19.00"),
        Decimal("9.00"),
        Decimal("2.00"),
    )
    # 30 % of 30 € less the 2 € contribution; the mutuelle's share unchanged; the 40 %
    # the AMO no longer pays is the patient's.
    assert (outside.amo, outside.amc, outside.patient) == (
        Decimal("7.00"),
        Decimal("9.00"),
        Decimal("14.00"),
    )
    ald = split(g, Coverage(long_term_condition=True, outside_pathway=True), day)
    assert ald.amo == Decimal("7.00")  # ALD included, outside the pathway
