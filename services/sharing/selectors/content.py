"""What a share would carry: the patient summary filtered by the consent, entry by entry.

Nothing leaves without a consent: each category of the patient summary is checked with
``core.access.sharing.may_share`` (and each sensitive entry with its label), and only
what is covered goes into the bundle (``sharing.services.exchange.share_send`` seals
and sends it).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.models import ShareCategory
from core.access.policy import Actor
from core.access.selectors import sharing_facts
from core.access.sharing import Recipient, may_share
from core.documents.pdf import render_pdf
from records import access as records_access
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


# What the documents of one share may weigh in all (they travel inside the message).
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


def _document_bytes(document: Any) -> tuple[str, bytes]:
    """A document as it travels: its file, or a letter written in Carnet printed as PDF."""
    if document.file:
        with document.file.open("rb") as handle:
            return document.content_type or "application/pdf", bytes(handle.read())
    pdf = render_pdf(
        "sharing/pdf/letter.html", {"document": document, "practice": document.practice}
    )
    return "application/pdf", pdf


def _document_reference(document: Any, content_type: str, data: bytes) -> dict[str, Any]:
    """A FHIR DocumentReference carrying the document itself (base64)."""
    return {
        "resourceType": "DocumentReference",
        "id": str(document.pk),
        "status": "current",
        "type": {"text": str(document.get_kind_display())},
        "category": [{"text": document.kind}],
        "subject": fhir_render.patient_reference(document.patient_id),
        "date": fhir_render.instant(document.recorded_at),
        "description": document.title,
        "content": [
            {
                "attachment": {
                    "contentType": content_type,
                    "data": base64.b64encode(data).decode(),
                    "title": document.title,
                    "creation": document.document_date.isoformat(),
                }
            }
        ],
    }


def _documents(
    *,
    actor: Actor,
    access: Any,
    patient: Patient,
    document_ids: list[int],
    covered: Any,
) -> tuple[list[dict[str, Any]], int]:
    """The chosen documents the sender may see and the consent covers (label included);
    refused when they weigh too much together."""
    resources: list[dict[str, Any]] = []
    total = 0
    wanted = set(document_ids)
    for document in active_entries("document", patient).order_by("pk"):
        if document.pk not in wanted or not records_access.may_see_entry(actor, access, document):
            continue
        if not covered(document.sensitivity):
            continue
        content_type, data = _document_bytes(document)
        total += len(data)
        if total > MAX_DOCUMENT_BYTES:
            raise ValidationError(
                {
                    "documents": _("The documents weigh too much for one share (%(mb)s MB).")
                    % {"mb": MAX_DOCUMENT_BYTES // 2**20}
                }
            )
        resources.append(_document_reference(document, content_type, data))
    return resources, len(resources)


# The parts of the summary whose entries can be chosen one by one ("allergies:12").
ENTRY_CATEGORIES = [
    c for c in ShareCategory.values if c not in (ShareCategory.LETTERS, ShareCategory.IDENTITY)
]


def entry_key(category: str, entry: Any) -> str:
    return f"{category}:{entry.pk}"


def chosen_entries(keys: list[str]) -> dict[str, set[int]]:
    """``["allergies:12", "problems:3"]`` → ``{"allergies": {12}, "problems": {3}}``;
    a key that is not one is left out (the form offers only real ones)."""
    chosen: dict[str, set[int]] = {}
    for key in keys:
        category, _sep, number = key.partition(":")
        if category in ENTRY_CATEGORIES and number.isdigit() and len(number) < 19:
            chosen.setdefault(category, set()).add(int(number))
    return chosen


def shareable_entries(*, actor: Actor, patient: Patient) -> list[tuple[str, str]]:
    """The entries the sender may see, to choose one by one: (key, words)."""
    access = records_access.access_for(patient)
    labels = dict(ShareCategory.choices)
    offered = []
    for category in ENTRY_CATEGORIES:
        for entry in _entries(patient, category):
            owner = entry.prescription if category == ShareCategory.MEDICATIONS else entry
            if records_access.may_see_entry(actor, access, owner):
                offered.append((entry_key(category, entry), f"{labels[category]} — {entry}"))
    return offered


def share_content(
    *,
    actor: Actor,
    patient: Patient,
    recipient: Recipient,
    categories: list[str],
    documents: list[int] | None = None,
    entries: list[str] | None = None,
) -> ShareContent:
    """What may leave for this recipient: covered categories, visible and consented
    entries, and the chosen documents when the consent covers letters. ``entries``:
    single entries chosen besides whole categories ("allergies:12"), under the same
    rules as their category."""
    chosen = chosen_entries(entries or [])
    original = list(categories)  # sent whole
    categories = [*categories, *(c for c in chosen if c not in categories)]
    consents, refused = sharing_facts(patient.pk)
    access = records_access.access_for(patient)
    today = timezone.localdate()
    resources: list[dict[str, Any]] = [fhir_render.patient(patient)]
    summary: dict[str, Any] = {"categories": {}, "refused": []}
    consent_ids: set[int] = set()
    if documents:
        letters = may_share(
            consents=consents,
            refused_all=refused,
            recipient=recipient,
            category=ShareCategory.LETTERS,
            today=today,
        )
        if letters.allowed:
            assert letters.consent_id is not None
            consent_ids.add(letters.consent_id)

            def covered(label: str) -> bool:
                return (
                    not label
                    or may_share(
                        consents=consents,
                        refused_all=refused,
                        recipient=recipient,
                        category=ShareCategory.LETTERS,
                        label=label,
                        today=today,
                    ).allowed
                )

            sent, count = _documents(
                actor=actor,
                access=access,
                patient=patient,
                document_ids=documents,
                covered=covered,
            )
            resources.extend(sent)
            summary["categories"][ShareCategory.LETTERS.value] = count
        else:
            summary["refused"].append(ShareCategory.LETTERS.value)
    for category in categories:
        if category == ShareCategory.LETTERS:
            continue  # letters travel as the documents chosen, above
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
        whole = category not in chosen or category in (original or [])
        for entry in _entries(patient, category):
            if not whole and entry.pk not in chosen[category]:
                continue  # only the entries chosen one by one
            owner = entry.prescription if category == ShareCategory.MEDICATIONS else entry
            if not records_access.may_see_entry(actor, access, owner):
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


def shareable_documents(*, actor: Actor, patient: Patient) -> list[Any]:
    """The patient's documents this person may see, newest first: what a share may
    carry (the consent then decides). No audit: titles only, on a page already
    authorized for sharing."""
    access = records_access.access_for(patient)
    return [
        document
        for document in active_entries("document", patient).order_by("-document_date", "-pk")
        if records_access.may_see_entry(actor, access, document)
    ]
