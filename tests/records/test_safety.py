"""The pure safety checks (records/safety.py), without a database: examples and
properties over generated drugs, allergies and thesaurus pairs."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from records import posology, safety
from records.safety import AllergyFacts, DrugFacts, Facts, Rule, Severity, SubstanceFacts

MOIETIES = ["amoxicilline", "warfarine", "paracetamol", "tramadol", "ibuprofene", "x-new"]
moiety = st.sampled_from(MOIETIES)


@st.composite
def substances(draw, mapped: bool | None = None) -> SubstanceFacts:
    name = draw(moiety)
    is_mapped = draw(st.booleans()) if mapped is None else mapped
    return SubstanceFacts(
        code=name[:5],
        name=name.upper(),
        moiety=name,
        interaction_key=name if is_mapped else "",
        atc=draw(st.sampled_from(["", "J01CA04", "N02BE01", "B01AA03"])),
    )


@st.composite
def drugs(draw, mapped: bool | None = None) -> DrugFacts:
    found = draw(st.lists(substances(mapped), min_size=1, max_size=3))
    unique = list({s.moiety: s for s in found}.values())
    return DrugFacts(
        label="+".join(s.name for s in unique), cis="12345678", substances=tuple(unique)
    )


@given(drugs(), st.lists(drugs(), max_size=3))
def test_an_allergy_to_a_substance_of_the_drug_always_blocks(drug, treatment) -> None:
    allergen = drug.substances[0].moiety
    facts = Facts(
        allergies=[AllergyFacts(id=1, label=allergen, moiety=allergen)], treatment=treatment
    )
    alerts = safety.check(drug, facts)
    assert any(a.kind == "allergy" and a.blocks for a in alerts)
    assert alerts == sorted(alerts, key=lambda a: -a.severity)  # the most severe first


@given(drugs())
def test_a_substance_not_in_the_thesaurus_is_always_said(drug) -> None:
    alerts = safety.check(drug, Facts())
    unmapped = [s for s in drug.substances if not s.interaction_key]
    said = [a for a in alerts if a.code.startswith("not_checked:interactions:")]
    assert bool(said) == bool(unmapped)
    for substance in unmapped:
        assert substance.name in said[0].what


@given(drugs(mapped=True))
def test_a_mapped_drug_for_a_patient_with_nothing_recorded_is_silent(drug) -> None:
    assert safety.check(drug, Facts()) == []


@given(st.text(min_size=1, max_size=30))
def test_a_drug_typed_freely_is_never_passed_silently(label) -> None:
    alerts = safety.check(DrugFacts(label=label), Facts())
    assert [a.kind for a in alerts] == ["not_checked"]


@given(st.sampled_from(["CI", "AD", "PE", "APEC"]), st.booleans())
def test_a_thesaurus_pair_gives_its_level_by_name_or_by_class(level, by_class) -> None:
    warfarin = SubstanceFacts(
        code="00678",
        name="WARFARINE SODIQUE",
        moiety="warfarine",
        interaction_key="warfarine",
        classes=frozenset({"antivitamines k"}),
    )
    other = SubstanceFacts(code="1", name="X", moiety="x", interaction_key="x")
    a_key = "antivitamines k" if by_class else "warfarine"
    rules = [
        Rule(a="A", b="X", a_key=a_key, b_key="x", level=level, risk="r", conduct="c"),
        Rule(a="X", b="A", a_key="x", b_key=a_key, level=level, risk="r", conduct="c"),
    ]
    drug = DrugFacts(label="new", cis="1", substances=(warfarin,))
    taken = DrugFacts(label="taken", cis="2", substances=(other,))
    (alert,) = safety.check(drug, Facts(treatment=[taken], rules=rules))
    assert (alert.level, alert.severity) == (level, safety.LEVEL_SEVERITY[level])
    assert alert.blocks == (level == "CI")
    # The other way round (the drug taken is the one prescribed before) finds it too.
    (again,) = safety.check(taken, Facts(treatment=[drug], rules=rules))
    assert again.level == level


def test_a_class_allergy_matches_the_atc_prefix_only() -> None:
    amox = SubstanceFacts(
        code="1",
        name="AMOXICILLINE",
        moiety="amoxicilline",
        interaction_key="amoxicilline",
        atc="J01CA04",
    )
    allergy = AllergyFacts(id=7, label="Pénicillines", atc_class="J01C")
    drug = DrugFacts(label="amox", cis="1", substances=(amox,))
    assert safety.blocking(safety.check(drug, Facts(allergies=[allergy])))
    macrolide = DrugFacts(
        label="m",
        cis="2",
        substances=(
            SubstanceFacts(code="2", name="M", moiety="m", interaction_key="m", atc="J01FA09"),
        ),
    )
    assert safety.check(macrolide, Facts(allergies=[allergy])) == []
    assert safety.check(drug, Facts(allergies=[allergy]))[0].severity == Severity.BLOCK


def test_hidden_entries_are_said_not_checked() -> None:
    drug = DrugFacts(
        label="d",
        cis="1",
        substances=(SubstanceFacts(code="1", name="D", moiety="d", interaction_key="d"),),
    )
    (alert,) = safety.check(drug, Facts(hidden_entries=2))
    assert alert.code == "not_checked:hidden_entries"


@given(st.integers(min_value=1, max_value=999))
def test_numbers_in_letters_have_no_digit(number) -> None:
    words = posology.in_letters(number)
    assert words and not any(char.isdigit() for char in words)
    assert posology.posology(
        quantity=Decimal(number), unit="comprimé", frequency=2, period="day", letters=True
    ).startswith(words)


def test_posology_in_letters_reads_as_a_prescription() -> None:
    assert (
        posology.posology(
            quantity=Decimal("1.5"), unit="comprimé", frequency=2, period="day", letters=True
        )
        == "un comprimé et demi deux fois par jour"
    )
    assert (
        posology.posology(
            quantity=Decimal(1), unit="gélule", frequency=1, period="week", letters=True
        )
        == "une gélule une fois par semaine"
    )
    assert (
        posology.posology(quantity=Decimal("0.5"), unit="comprimé", frequency=3, period="day")
        == "0,5 comprimé 3 fois par jour"
    )
    assert posology.dosage_in_letters("TRAMADOL 50 mg") == "TRAMADOL 50 mg (cinquante milligrammes)"
    assert posology.needs_secure_prescription(["codeine", "paracetamol"])
    assert not posology.needs_secure_prescription(["paracetamol"])
