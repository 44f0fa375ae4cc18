"""Safety checks while prescribing: allergies, drug-drug interactions, the same
substance twice.

This module is pure: it reads no table and writes nothing. ``records.selectors.
prescribing`` gathers the facts (the drug's substances, the patient's allergies and
current treatment, the thesaurus pairs that concern them) and the prescription service
and the form ask ``check``. So every rule can be tested exhaustively without a database.

What is never done here is to pass silently over what cannot be checked: a drug typed
freely, a substance the ANSM thesaurus does not name, an allergy written as free text, a
class allergy against a substance with no known ATC code, an entry hidden from the
prescriber. Each gives an alert of its own, "not checked".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from django.utils.translation import gettext as _


class Severity(IntEnum):
    """How an alert weighs on saving. Ordered: the most severe is the largest."""

    NOT_CHECKED = 0  # said, so that nobody believes it was checked
    INFO = 1  # "à prendre en compte"
    WARNING = 2  # saved as it is; the prescriber has seen it
    BLOCK = 3  # saved only with a reason, which is audited


# ANSM thesaurus levels -> what the alert does (a contre-indication blocks).
LEVEL_SEVERITY = {
    "CI": Severity.BLOCK,
    "AD": Severity.WARNING,
    "PE": Severity.WARNING,
    "APEC": Severity.INFO,
}
LEVEL_LABELS = {
    "CI": "Contre-indication",
    "AD": "Association déconseillée",
    "PE": "Précaution d'emploi",
    "APEC": "À prendre en compte",
}
THESAURUS_SOURCE = "Thésaurus ANSM des interactions médicamenteuses, septembre 2023"


@dataclass(frozen=True)
class SubstanceFacts:
    """One substance of a drug, as the checks need it."""

    code: str
    name: str
    moiety: str
    interaction_key: str = ""  # "" when the thesaurus does not name it
    atc: str = ""
    classes: frozenset[str] = frozenset()  # the thesaurus classes it belongs to

    @property
    def interaction_names(self) -> frozenset[str]:
        return frozenset({self.interaction_key, *self.classes}) - {""}


@dataclass(frozen=True)
class DrugFacts:
    """A drug being prescribed or already taken. ``cis`` is empty for a drug typed
    freely, which has no known substance."""

    label: str
    cis: str = ""
    atc: str = ""
    substances: tuple[SubstanceFacts, ...] = ()


@dataclass(frozen=True)
class AllergyFacts:
    """An allergy or intolerance of the chart. ``moiety`` is set when it was recorded as
    a substance of the reference, ``atc_class`` when recorded as a drug class; neither,
    when written as text only."""

    id: int
    label: str
    intolerance: bool = False
    moiety: str = ""
    atc_class: str = ""
    atc_label: str = ""
    reaction: str = ""


@dataclass(frozen=True)
class Rule:
    """One pair of the ANSM thesaurus, texts as published."""

    a: str
    b: str
    a_key: str
    b_key: str
    level: str
    risk: str = ""
    conduct: str = ""


@dataclass(frozen=True)
class Alert:
    """What the form and the save show. ``code`` is stable: it is what the audit trail
    and the prescription keep."""

    code: str
    severity: Severity
    kind: str  # allergy, interaction, duplicate, not_checked
    what: str
    why: str = ""
    conduct: str = ""
    level: str = ""  # the thesaurus level, for interactions
    source: str = ""

    @property
    def blocks(self) -> bool:
        return self.severity == Severity.BLOCK

    @property
    def css(self) -> str:
        return {
            Severity.BLOCK: "block",
            Severity.WARNING: "warning",
            Severity.INFO: "info",
            Severity.NOT_CHECKED: "not-checked",
        }[self.severity]


@dataclass
class Facts:
    """Everything ``check`` reads: the patient's allergies and current treatment, the
    thesaurus pairs that may concern them, and how many entries were hidden from the
    prescriber (which cannot be checked without showing them)."""

    allergies: Sequence[AllergyFacts] = ()
    treatment: Sequence[DrugFacts] = ()
    rules: Sequence[Rule] = ()
    hidden_entries: int = 0


def check(drug: DrugFacts, facts: Facts, *, others: Sequence[DrugFacts] = ()) -> list[Alert]:
    """Every alert for prescribing ``drug`` to this patient, the most severe first.

    ``others`` are the other lines of the same prescription: they are checked like the
    current treatment.
    """
    alerts: list[Alert] = []
    if not drug.cis:
        alerts.append(
            Alert(
                code=f"not_checked:free_text:{drug.label}",
                severity=Severity.NOT_CHECKED,
                kind="not_checked",
                what=_("%(drug)s was typed freely: nothing was checked.") % {"drug": drug.label},
                conduct=_("Pick the drug from the list to check allergies and interactions."),
            )
        )
        return alerts
    if not drug.substances:
        alerts.append(
            Alert(
                code=f"not_checked:composition:{drug.cis}",
                severity=Severity.NOT_CHECKED,
                kind="not_checked",
                what=_("The composition of %(drug)s is unknown: nothing was checked.")
                % {"drug": drug.label},
            )
        )
        return alerts
    alerts += allergy_alerts(drug, facts.allergies)
    current = [*facts.treatment, *others]
    alerts += duplicate_alerts(drug, current)
    alerts += interaction_alerts(drug, current, facts.rules)
    alerts += unmapped_alerts(drug, current)
    if facts.hidden_entries:
        alerts.append(
            Alert(
                code="not_checked:hidden_entries",
                severity=Severity.NOT_CHECKED,
                kind="not_checked",
                what=_(
                    "%(count)s entries of the record are hidden from you (sensitivity "
                    "label): they were not checked."
                )
                % {"count": facts.hidden_entries},
            )
        )
    return sorted(alerts, key=lambda alert: -alert.severity)


def blocking(alerts: Iterable[Alert]) -> list[Alert]:
    return [alert for alert in alerts if alert.blocks]


# Allergies -------------------------------------------------------------------------------


def allergy_alerts(drug: DrugFacts, allergies: Iterable[AllergyFacts]) -> list[Alert]:
    alerts = []
    for allergy in allergies:
        severity = Severity.WARNING if allergy.intolerance else Severity.BLOCK
        kind_label = _("Intolerance") if allergy.intolerance else _("Allergy")
        why = _("Recorded: %(allergy)s") % {"allergy": allergy.label}
        if allergy.reaction:
            why += f" ({allergy.reaction})"
        conduct = _(
            "Do not prescribe it: choose a drug without this substance. To go on, give the reason."
        )
        if allergy.moiety:
            matches = [s for s in drug.substances if s.moiety == allergy.moiety]
            if matches:
                alerts.append(
                    Alert(
                        code=f"allergy:{allergy.id}",
                        severity=severity,
                        kind="allergy",
                        what=_("%(kind)s to %(allergen)s: %(drug)s contains %(substances)s.")
                        % {
                            "kind": kind_label,
                            "allergen": allergy.label,
                            "drug": drug.label,
                            "substances": ", ".join(s.name for s in matches),
                        },
                        why=why,
                        conduct=conduct,
                    )
                )
        elif allergy.atc_class:
            alerts += _class_allergy(drug, allergy, severity, kind_label, why, conduct)
        else:
            alerts.append(_free_text_allergy(allergy))
    return alerts


def _class_allergy(
    drug: DrugFacts,
    allergy: AllergyFacts,
    severity: Severity,
    kind_label: str,
    why: str,
    conduct: str,
) -> list[Alert]:
    """A class allergy (ATC, e.g. J01C penicillins) against the drug's own ATC code and
    each substance's; a substance with neither cannot be checked."""
    in_class = drug.atc.startswith(allergy.atc_class) if drug.atc else False
    members = [s for s in drug.substances if s.atc and s.atc.startswith(allergy.atc_class)]
    class_name = f"{allergy.atc_class} {allergy.atc_label}".strip()
    if in_class or members:
        named = ", ".join(f"{s.name} ({s.atc})" for s in members) or f"{drug.label} ({drug.atc})"
        return [
            Alert(
                code=f"allergy:{allergy.id}",
                severity=severity,
                kind="allergy",
                what=_("%(kind)s to the class %(class)s: %(substances)s belongs to it.")
                % {"kind": kind_label, "class": class_name, "substances": named},
                why=why,
                conduct=conduct,
            )
        ]
    unknown = [s for s in drug.substances if not s.atc]
    if drug.atc or not unknown:
        return []
    return [
        Alert(
            code=f"not_checked:allergy:{allergy.id}",
            severity=Severity.NOT_CHECKED,
            kind="not_checked",
            what=_(
                "%(kind)s to the class %(class)s not checked for %(substances)s: its ATC "
                "code is unknown."
            )
            % {
                "kind": kind_label,
                "class": class_name,
                "substances": ", ".join(s.name for s in unknown),
            },
        )
    ]


def _free_text_allergy(allergy: AllergyFacts) -> Alert:
    return Alert(
        code=f"not_checked:allergy:{allergy.id}",
        severity=Severity.NOT_CHECKED,
        kind="not_checked",
        what=_(
            "%(allergy)s was recorded as free text: not checked. Record it as a "
            "substance or a drug class."
        )
        % {"allergy": allergy.label},
    )


# The same substance twice -----------------------------------------------------------------


def duplicate_alerts(drug: DrugFacts, current: Iterable[DrugFacts]) -> list[Alert]:
    alerts = []
    mine = {s.moiety: s for s in drug.substances}
    seen: set[str] = set()
    for other in current:
        for substance in other.substances:
            if substance.moiety in mine and substance.moiety not in seen:
                seen.add(substance.moiety)
                alerts.append(
                    Alert(
                        code=f"duplicate:{substance.moiety}",
                        severity=Severity.WARNING,
                        kind="duplicate",
                        what=_("%(substance)s twice: %(drug)s and %(other)s both contain it.")
                        % {
                            "substance": mine[substance.moiety].name,
                            "drug": drug.label,
                            "other": other.label,
                        },
                        why=_("Risk of overdose."),
                        conduct=_("Check the total daily dose, or stop one of them."),
                    )
                )
    return alerts


# Interactions ------------------------------------------------------------------------------


def interaction_alerts(
    drug: DrugFacts, current: Iterable[DrugFacts], rules: Sequence[Rule]
) -> list[Alert]:
    """Each thesaurus pair between a substance of ``drug`` (by name or class) and one of
    a drug taken, once per pair and drug taken. The thesaurus lists every pair in both
    directions, so one direction is enough."""
    by_a: dict[str, list[Rule]] = {}
    for rule in rules:
        by_a.setdefault(rule.a_key, []).append(rule)
    alerts = []
    seen: set[tuple[str, str, str]] = set()
    for other in current:
        theirs = frozenset().union(*(s.interaction_names for s in other.substances))
        for substance in drug.substances:
            if substance.moiety in {s.moiety for s in other.substances}:
                continue  # the same substance: a duplicate, not an interaction
            for name in sorted(substance.interaction_names):
                for rule in by_a.get(name, []):
                    key = (rule.a_key, rule.b_key, other.label)
                    if rule.b_key not in theirs or key in seen:
                        continue
                    seen.add(key)
                    alerts.append(_interaction(drug, other, rule))
    return alerts


def _interaction(drug: DrugFacts, other: DrugFacts, rule: Rule) -> Alert:
    level = LEVEL_LABELS[rule.level]
    return Alert(
        code=f"interaction:{rule.level}:{rule.a_key}+{rule.b_key}",
        severity=LEVEL_SEVERITY[rule.level],
        kind="interaction",
        what=_("%(level)s: %(drug)s with %(other)s (%(a)s + %(b)s).")
        % {"level": level, "drug": drug.label, "other": other.label, "a": rule.a, "b": rule.b},
        why=rule.risk,
        conduct=rule.conduct or level,
        level=rule.level,
        source=THESAURUS_SOURCE,
    )


def unmapped_alerts(drug: DrugFacts, current: Iterable[DrugFacts]) -> list[Alert]:
    """Interactions that cannot be checked: substances of the drug, or drugs taken, that
    the thesaurus mapping does not know."""
    alerts = []
    unknown = [s for s in drug.substances if not s.interaction_key]
    if unknown:
        names = ", ".join(s.name for s in unknown)
        alerts.append(
            Alert(
                code=f"not_checked:interactions:{drug.cis}",
                severity=Severity.NOT_CHECKED,
                kind="not_checked",
                what=_(
                    "Interactions not checked for %(substances)s: not found in the ANSM thesaurus."
                )
                % {"substances": names},
                source=THESAURUS_SOURCE,
            )
        )
    for other in current:
        unknown = [s for s in other.substances if not s.interaction_key]
        if other.cis and unknown:
            alerts.append(
                Alert(
                    code=f"not_checked:treatment:{other.cis}",
                    severity=Severity.NOT_CHECKED,
                    kind="not_checked",
                    what=_(
                        "Interactions with %(substances)s (%(other)s) not checked: not found "
                        "in the ANSM thesaurus."
                    )
                    % {"substances": ", ".join(s.name for s in unknown), "other": other.label},
                    source=THESAURUS_SOURCE,
                )
            )
        if not other.cis or not other.substances:
            alerts.append(
                Alert(
                    code=f"not_checked:treatment:{other.label}",
                    severity=Severity.NOT_CHECKED,
                    kind="not_checked",
                    what=_("Interactions with %(other)s not checked: its composition is unknown.")
                    % {"other": other.label},
                )
            )
    return alerts
