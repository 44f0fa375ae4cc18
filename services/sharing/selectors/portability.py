"""The patient's portability copy: everything of their record that the practitioner may
see, as a FHIR R4 collection Bundle any other software can read (the printed copy is
the record PDF, ``records.printing``). Producing it is audited as an export."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, Purpose
from core.access.selectors import consents_of
from core.audit.services import record_event
from records import access as records_access
from records.selectors import active_entries, patient_of_practice
from sharing.fhir import render as fhir_render


def portability_bundle(*, actor: Actor, patient_id: int) -> dict[str, Any]:
    patient = patient_of_practice(patient_id)
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    access = records_access.access_for(patient)
    records_access.require(
        actor,
        Action.EXPORT,
        Category.CLINICAL,
        patient,
        access=access,
        purpose=Purpose.PATIENT_REQUEST,
        audit_success=False,  # the export is recorded once, below, with what it holds
    )
    resources: list[dict[str, Any]] = [fhir_render.patient(patient)]
    hidden = 0
    today = timezone.localdate()
    sources: list[tuple[Any, Any]] = [
        (active_entries("encounter", patient).order_by("occurred_at"), fhir_render.encounter),
        (active_entries("problem", patient), fhir_render.condition),
        (active_entries("allergy", patient), fhir_render.allergy_intolerance),
        (active_entries("immunization", patient), fhir_render.immunization),
        (active_entries("observation", patient).order_by("effective_at"), fhir_render.observation),
    ]
    for rows, render in sources:
        for row in rows:
            if records_access.may_see_entry(actor, access, row, Action.EXPORT):
                resources.append(render(row))
            else:
                hidden += 1
    items = active_entries("prescription_item", patient).select_related("prescription", "drug")
    for item in items:
        if records_access.may_see_entry(actor, access, item.prescription, Action.EXPORT):
            resources.append(fhir_render.medication_request(item, today=today))
        else:
            hidden += 1
    resources += [fhir_render.consent(consent) for consent in consents_of(patient.pk)]
    record_event(
        "patient.export",
        actor=actor,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        purpose=Purpose.PATIENT_REQUEST.value,
        details={"document": "portability_bundle", "resources": len(resources), "hidden": hidden},
    )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": fhir_render.instant(timezone.now()),
        "entry": [
            {
                "fullUrl": f"urn:carnet:{resource['resourceType']}/{resource.get('id', '')}",
                "resource": resource,
            }
            for resource in resources
        ],
    }
