"""Reads for prescribing: the facts the safety checks (``records.safety``) judge.

The allergies and the current treatment are clinical data: they are read under the
policy (a read of the clinical record, audited by ``records_access.require``), and only the
entries this prescriber may see are used. How many were hidden is passed on, so that
the checks say they could not look at them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.utils import timezone

from core.access.policy import Action, Actor, Category
from records import access as records_access
from records import safety
from records.compositions import chosen_components
from records.models import (
    Allergy,
    AtcClass,
    Drug,
    DrugComponent,
    Interaction,
    InteractionClassMember,
    PrescriptionItem,
    Substance,
)
from records.models.clinical import TREATMENT_LOOKBACK_DAYS, EntryStatus


def drug_facts(cis_codes: Iterable[str]) -> dict[str, safety.DrugFacts]:
    """The drugs with their substances (the therapeutic fraction when there is one),
    each substance's moiety, interaction key, ATC code and thesaurus classes. Three
    queries, whatever the number of drugs."""
    codes = sorted({code for code in cis_codes if code})
    if not codes:
        return {}
    drugs = Drug.objects.in_bulk(codes)
    components: dict[str, list[DrugComponent]] = defaultdict(list)
    for component in (
        DrugComponent.objects.filter(drug_id__in=codes).select_related("substance").order_by("pk")
    ):
        components[component.drug_id].append(component)
    keys = {c.substance.interaction_key for rows in components.values() for c in rows}
    classes: dict[str, set[str]] = defaultdict(set)
    for member in InteractionClassMember.objects.filter(substance_key__in=keys - {""}):
        if member.class_key:
            classes[member.substance_key].add(member.class_key)
    facts = {}
    for cis, drug in drugs.items():
        chosen = chosen_components(components[cis]) if components[cis] else []
        substances = tuple(
            _substance(component.substance, classes) for component in _unique(chosen)
        )
        facts[cis] = safety.DrugFacts(
            label=drug.dci or drug.name, cis=cis, atc=drug.atc, substances=substances
        )
    return facts


def _unique(components: list[DrugComponent]) -> list[DrugComponent]:
    seen: set[str] = set()
    unique = []
    for component in components:
        if component.substance_id not in seen:
            seen.add(component.substance_id)
            unique.append(component)
    return unique


def _substance(substance: Substance, classes: dict[str, set[str]]) -> safety.SubstanceFacts:
    return safety.SubstanceFacts(
        code=substance.code,
        name=substance.name,
        moiety=substance.moiety,
        interaction_key=substance.interaction_key,
        atc=substance.atc,
        classes=frozenset(classes.get(substance.interaction_key, ())),
    )


def current_treatment(
    actor: Actor, access: records_access.PatientAccess
) -> tuple[list[PrescriptionItem], int]:
    """The chart's current treatment (lines of the active prescriptions of the last two
    years whose end has not passed) that this prescriber may see, and how many
    prescriptions were hidden."""
    today = timezone.localdate()
    items = list(
        PrescriptionItem.objects.filter(
            prescription__patient=access.patient,
            prescription__status=EntryStatus.ACTIVE,
            prescription__prescribed_on__gte=today - timedelta(days=TREATMENT_LOOKBACK_DAYS),
        )
        .select_related("prescription")
        .order_by("-prescription__prescribed_on", "position")[:200]
    )
    prescriptions = {item.prescription for item in items}
    visible = {p.pk for p in prescriptions if records_access.may_see_entry(actor, access, p)}
    current = [i for i in items if i.prescription.pk in visible and i.ends_on() >= today]
    return current, len(prescriptions) - len(visible)


def allergy_facts(
    actor: Actor, access: records_access.PatientAccess
) -> tuple[list[safety.AllergyFacts], int]:
    allergies = list(
        Allergy.objects.filter(patient=access.patient, status=EntryStatus.ACTIVE).order_by("pk")
    )
    visible = [a for a in allergies if records_access.may_see_entry(actor, access, a)]
    moieties = dict(
        Substance.objects.filter(
            code__in={a.substance_code for a in visible if a.substance_code}
        ).values_list("code", "moiety")
    )
    labels = dict(
        AtcClass.objects.filter(code__in={a.atc_class for a in visible if a.atc_class}).values_list(
            "code", "label"
        )
    )
    facts = [
        safety.AllergyFacts(
            id=allergy.pk,
            label=allergy.substance,
            intolerance=allergy.kind == Allergy.Kind.INTOLERANCE,
            moiety=moieties.get(allergy.substance_code, ""),
            atc_class=allergy.atc_class,
            atc_label=labels.get(allergy.atc_class, ""),
            reaction=allergy.reaction,
        )
        for allergy in visible
    ]
    return facts, len(allergies) - len(visible)


def rules_for(drugs: Sequence[safety.DrugFacts], others: Sequence[safety.DrugFacts]) -> list:
    """The thesaurus pairs between the names (substances and classes) of ``drugs`` and
    those of ``others``: one query, a few rows."""
    mine = {name for drug in drugs for s in drug.substances for name in s.interaction_names}
    theirs = {name for drug in others for s in drug.substances for name in s.interaction_names}
    if not mine or not theirs:
        return []
    return [
        safety.Rule(
            a=row.a,
            b=row.b,
            a_key=row.a_key,
            b_key=row.b_key,
            level=row.level,
            risk=row.risk,
            conduct=row.conduct,
        )
        for row in Interaction.objects.filter(a_key__in=mine, b_key__in=theirs).order_by("pk")
    ]


def treatment_facts(items: Iterable[PrescriptionItem]) -> list[safety.DrugFacts]:
    items = list(items)
    known = drug_facts(item.drug_id for item in items if item.drug_id)
    facts = []
    for item in items:
        if item.drug_id and item.drug_id in known:
            fact = known[item.drug_id]
            facts.append(
                safety.DrugFacts(
                    label=item.printed_name or fact.label,
                    cis=fact.cis,
                    atc=fact.atc,
                    substances=fact.substances,
                )
            )
        else:
            facts.append(safety.DrugFacts(label=item.drug_label))
    return facts


def prescribing_facts(
    *, actor: Actor, access: records_access.PatientAccess, drugs: Sequence[safety.DrugFacts]
) -> safety.Facts:
    """The patient's facts for checking ``drugs`` (the lines being prescribed). The read
    of the clinical record is judged by the policy and audited."""
    records_access.require(actor, Action.READ, Category.CLINICAL, access.patient, access=access)
    allergies, hidden_allergies = allergy_facts(actor, access)
    items, hidden_prescriptions = current_treatment(actor, access)
    treatment = treatment_facts(items)
    return safety.Facts(
        allergies=allergies,
        treatment=treatment,
        rules=rules_for(drugs, [*treatment, *drugs]),
        hidden_entries=hidden_allergies + hidden_prescriptions,
    )


def check_lines(
    *, actor: Actor, access: records_access.PatientAccess, lines: Sequence[safety.DrugFacts]
) -> list[list[safety.Alert]]:
    """The alerts of each line of a prescription, each line checked against the
    patient's record and the other lines."""
    facts = prescribing_facts(actor=actor, access=access, drugs=lines)
    return [
        safety.check(line, facts, others=list(lines[:index])) for index, line in enumerate(lines)
    ]


def prescribing_context(
    *, actor: Actor, access: records_access.PatientAccess
) -> tuple[list[Allergy], list[PrescriptionItem]]:
    """What the prescription form shows beside the lines: the allergies (with whether
    each is checked) and the current treatment, those this prescriber may see. The read
    is judged by the policy and audited."""
    records_access.require(actor, Action.READ, Category.CLINICAL, access.patient, access=access)
    allergies = [
        allergy
        for allergy in Allergy.objects.filter(
            patient=access.patient, status=EntryStatus.ACTIVE
        ).order_by("substance")
        if records_access.may_see_entry(actor, access, allergy)
    ]
    treatment, _hidden = current_treatment(actor, access)
    return allergies, treatment
