"""What a received share holds, in words a practitioner reads before accepting it:
who it is about and its entries, from the FHIR bundle (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

# The resources a share carries, in the order a chart shows them, and their heading.
SECTIONS = {
    "AllergyIntolerance": _("Allergies"),
    "Condition": _("Problems"),
    "MedicationRequest": _("Medications"),
    "Immunization": _("Immunizations"),
    "Observation": _("Observations"),
    "DocumentReference": _("Letters and documents"),
}


SEXES = {"male": _("man"), "female": _("woman"), "other": _("other"), "unknown": _("unknown")}


@dataclass
class SharedPerson:
    family: str = ""
    given: str = ""
    birth_date: str = ""  # YYYY-MM-DD as FHIR writes it
    sex: str = ""

    @property
    def born(self) -> str:
        """The birth date as a French reader writes it (DD/MM/YYYY)."""
        year, _sep, rest = self.birth_date.partition("-")
        month, _sep, day = rest.partition("-")
        return f"{day}/{month}/{year}" if day else self.birth_date

    @property
    def sex_label(self) -> str:
        return str(SEXES.get(self.sex, self.sex))


@dataclass
class ShareOverview:
    person: SharedPerson
    sections: list[tuple[str, list[str]]] = field(default_factory=list)


def _concept(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    if value.get("text"):
        return str(value["text"])
    for coding in value.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
        if coding.get("code"):
            return str(coding["code"])
    return ""


def _line(resource: dict[str, Any]) -> str:
    kind = resource.get("resourceType")
    if kind == "AllergyIntolerance" or kind == "Condition":
        return _concept(resource.get("code"))
    if kind == "MedicationRequest":
        return _concept(resource.get("medicationCodeableConcept"))
    if kind == "Immunization":
        when = str(resource.get("occurrenceDateTime", ""))[:10]
        return f"{_concept(resource.get('vaccineCode'))} {when}".strip()
    if kind == "Observation":
        quantity = resource.get("valueQuantity") or {}
        value = resource.get("valueString") or " ".join(
            str(part) for part in (quantity.get("value"), quantity.get("unit")) if part
        )
        return (
            f"{_concept(resource.get('code'))} : {value}"
            if value
            else _concept(resource.get("code"))
        )
    if kind == "DocumentReference":
        return str(resource.get("description") or _concept(resource.get("type")))
    return ""


def share_overview(bundle: dict[str, Any]) -> ShareOverview:
    resources = [e.get("resource") or {} for e in bundle.get("entry") or []]
    person = SharedPerson()
    for resource in resources:
        if resource.get("resourceType") == "Patient":
            name = (resource.get("name") or [{}])[0]
            person = SharedPerson(
                family=str(name.get("family", "")),
                given=" ".join(name.get("given") or []),
                birth_date=str(resource.get("birthDate", "")),
                sex=str(resource.get("gender", "")),
            )
            break
    sections = []
    for kind, heading in SECTIONS.items():
        lines = [_line(r) for r in resources if r.get("resourceType") == kind]
        if lines:
            sections.append((str(heading), [line for line in lines if line]))
    return ShareOverview(person=person, sections=sections)
