"""What a share would carry: the patient summary filtered by the consent, entry by entry.

Nothing leaves without a consent: each category of the patient summary is checked with
``core.access.sharing.may_share`` (and each sensitive entry with its label), and only
what is covered goes into the bundle (``sharing.services.exchange.share_send`` seals
and sends it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from core.access.models import ShareCategory
from core.access.policy import Actor
from core.access.selectors import sharing_facts
from core.access.sharing import Recipient, may_share
from records import access as policy
from records.selectors import Patient, active_entries
from sharing.fhir import render as fhir_render
from sharing.selectors.directory import node_name


@dataclass(frozen=True)
class ShareContent:
    bundle: dict[str, Any]
    summary: dict[str, Any]
    consent_ids: set[int]


def _entries(patient: Patient, category: str) -> list[Any]:
    if category == ShareCategory.PROBLEMS:
        return list(active_entries("problem", patient))
    if category == ShareCategory.ALLERGIES:
        return list(active_entries("allergy", patient))
    if category == ShareCategory.IMMUNIZATIONS:
        return list(active_entries("immunization", patient))
    if category == ShareCategory.OBSERVATIONS:
        return list(active_entries("observation", patient).order_by("-effective_at")[:200])
    if category == ShareCategory.MEDICATIONS:
        since = timezone.localdate() - timedelta(days=366)
        return list(
            active_entries("prescription_item", patient)
            .filter(prescription__prescribed_on__gte=since)
            .select_related("prescription", "drug")
        )
    return []


def _render(category: str, entry: Any) -> dict[str, Any]:
    if category == ShareCategory.PROBLEMS:
        return fhir_render.condition(entry)
    if category == ShareCategory.ALLERGIES:
        return fhir_render.allergy_intolerance(entry)
    if category == ShareCategory.IMMUNIZATIONS:
        return fhir_render.immunization(entry)
    if category == ShareCategory.OBSERVATIONS:
        return fhir_render.observation(entry)
    return fhir_render.medication_request(entry, today=timezone.localdate())


def share_content(
    *, actor: Actor, patient: Patient, recipient: Recipient, categories: list[str]
) -> ShareContent:
    """What may leave for this recipient: covered categories, visible and consented entries."""
    consents, refused = sharing_facts(patient.pk)
    access = policy.access_for(patient)
    today = timezone.localdate()
    resources: list[dict[str, Any]] = [fhir_render.patient(patient)]
    summary: dict[str, Any] = {"categories": {}, "refused": []}
    consent_ids: set[int] = set()
    for category in categories:
        decision = may_share(
            consents=consents,
            refused_all=refused,
            recipient=recipient,
            category=category,
            today=today,
        )
        if not decision.allowed:
            summary["refused"].append(category)
            continue
        assert decision.consent_id is not None
        consent_ids.add(decision.consent_id)
        count = 0
        for entry in _entries(patient, category):
            owner = entry.prescription if category == ShareCategory.MEDICATIONS else entry
            if not policy.may_see_entry(actor, access, owner):
                continue
            if (
                owner.sensitivity
                and not may_share(
                    consents=consents,
                    refused_all=refused,
                    recipient=recipient,
                    category=category,
                    label=owner.sensitivity,
                    today=today,
                ).allowed
            ):
                continue
            resources.append(_render(category, entry))
            count += 1
        summary["categories"][category] = count
    now = timezone.now()
    composition = {
        "resourceType": "Composition",
        "status": "final",
        "type": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "60591-5",
                    "display": "Patient summary Document",
                }
            ]
        },
        "subject": fhir_render.patient_reference(patient.pk),
        "date": fhir_render.instant(now),
        "author": [{"display": actor.label}],
        "title": "Synthèse médicale partagée",
    }
    prefix = f"{node_name()}.{patient.practice_id}."
    resources = [_namespaced(resource, prefix) for resource in resources]
    composition["subject"] = {"reference": f"Patient/{prefix}{patient.pk}"}
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "timestamp": fhir_render.instant(now),
        "entry": [{"resource": composition}] + [{"resource": resource} for resource in resources],
    }
    return ShareContent(bundle, summary, consent_ids)


def _namespaced(resource: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Ids unique across the cooperative: the recipient may hold shares from many
    practices, whose row numbers overlap."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items()}
            reference = out.get("reference")
            if isinstance(reference, str) and "/" in reference and not reference.startswith("urn:"):
                kind, _sep, ident = reference.partition("/")
                out["reference"] = f"{kind}/{prefix}{ident}"
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    renamed = walk(resource)
    if "id" in renamed:
        renamed["id"] = f"{prefix}{renamed['id']}"[:64]
    return renamed
