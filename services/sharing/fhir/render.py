"""Rows of the record as FHIR R4 resources (plain dicts, ready to serialise as JSON).

Pure functions: no database access and no policy decision. The caller has already
decided what the reader may see (``sharing.fhir.api``) and loaded the related rows it
names here (an entry's author, a prescription line's prescription and drug).

Every function returns a dict that validates with the matching
``fhir.resources.R4B`` model; ``tests/sharing/test_fhir_api.py`` parses every resource
the API serves. Ids are the row ids of this practice ("42"), references are relative
("Patient/42"). Nothing is served inline: a document points to its page in Carnet,
which goes through the policy again.

Only what the FHIR element means is put in it. The SOAP note of a consultation, a
letter's text and the audit trail's free-text reasons for corrections stay out: they
are not part of the resources served here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

# --- code systems -----------------------------------------------------------------------

NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR, the French national health identifier
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # idNatPs: "8" + RPPS number
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"  # CIM-10 is the French edition of ICD-10
CIS_SYSTEM = "http://data.esante.gouv.fr/ansm/medicament/codeCIS"  # BDPM drug code
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# Identity in French FHIR terms (FR Core, Interop'Santé): the identifier's type, and the
# reliability of the identity (the RNIV's statuses: provisoire, récupérée, validée,
# qualifiée).
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
FR_IDENTITY_RELIABILITY = (
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
)
FR_IDENTITY_STATUS = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445"

# LOINC codes of vital signs (FHIR's vital-signs profile and Carnet's consultation form).
VITAL_SIGN_CODES = frozenset(
    {
        "85353-1",  # vital signs panel
        "9279-1",  # respiratory rate
        "8867-4",  # heart rate
        "2708-6",  # oxygen saturation
        "59408-5",  # oxygen saturation by pulse oximetry
        "8310-5",  # body temperature
        "8302-2",  # body height
        "9843-4",  # head circumference
        "29463-7",  # body weight
        "39156-5",  # BMI
        "85354-9",  # blood pressure panel
        "8480-6",  # systolic blood pressure
        "8462-4",  # diastolic blood pressure
    }
)

LOINC_CODE = re.compile(r"^[0-9]{1,8}-[0-9]\Z")

# Units written by Carnet (vital signs, the demo's lab results) that are UCUM codes as
# they stand. Any other unit is served as text only: a wrong UCUM code is worse than none.
UCUM_UNITS = frozenset(
    {"%", "/min", "Cel", "cm", "g/L", "kg", "kg/m2", "m", "mg/L", "mm[Hg]", "mmol/L", "umol/L"}
)

ENCOUNTER_CLASS = {
    "office": ("AMB", "ambulatory"),
    "home": ("HH", "home health"),
    "phone": ("VR", "virtual"),
    "video": ("VR", "virtual"),
}
GENDER = {"F": "female", "M": "male", "X": "unknown"}
ALLERGY_CRITICALITY = {"mild": "low", "moderate": "low", "severe": "high"}

# Carnet's sensitivity labels as HL7 information-sensitivity codes, where one exists.
SENSITIVITY_CODES = {
    "mental_health": "PSY",
    "sexual_reproductive": "SEX",
    "hiv_sti": "HIV",
    "addiction": "ETH",
    "genetics": "GDIS",
}

# What a sharing consent covers (core.access.models.ShareCategory) as resource types.
SHARE_CATEGORY_TYPES = {
    "identity": "Patient",
    "problems": "Condition",
    "allergies": "AllergyIntolerance",
    "medications": "MedicationRequest",
    "immunizations": "Immunization",
    "observations": "Observation",
    "letters": "DocumentReference",
}

ENTERED_IN_ERROR = "entered_in_error"


# --- small helpers ----------------------------------------------------------------------


def instant(value: datetime) -> str:
    """An aware datetime in the practice's time zone, to the second."""
    return timezone.localtime(value).isoformat(timespec="seconds")


def day(value: date) -> str:
    return value.isoformat()


def patient_reference(patient_id: int) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def person_display(person: Any) -> dict[str, str]:
    """A person of the practice, by name: Carnet does not serve Practitioner resources."""
    return {"display": getattr(person, "full_name", "") or str(person)}


def number(value: Decimal) -> int | float:
    """A decimal as a JSON number (72.500 -> 72.5, 128.000 -> 128)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _in_error(entry: Any) -> bool:
    return bool(entry.status == ENTERED_IN_ERROR)


_GONE = object()


def _without_empty(value: Any) -> Any:
    """The value without its empty members (None, "", [], {}) at any depth; a member that
    is empty once cleaned goes too."""
    if isinstance(value, dict):
        return {key: kept for key, item in value.items() if (kept := _kept(item)) is not _GONE}
    if isinstance(value, list):
        return [kept for item in value if (kept := _kept(item)) is not _GONE]
    return value


def _kept(item: Any) -> Any:
    """A member cleaned, or ``_GONE`` if empty. (Every member of every resource sent
    passes here: it is tested by its type first, then compared at most twice.)"""
    if isinstance(item, (dict, list)):
        item = _without_empty(item)
        return item if item else _GONE
    return _GONE if item is None or item == "" else item


def _drop_empty(resource: dict[str, Any]) -> dict[str, Any]:
    """FHIR JSON has no empty strings, arrays or objects: leave out, at every depth,
    what has no value (``False`` and ``0`` are values)."""
    cleaned: dict[str, Any] = _without_empty(resource)
    return cleaned


# --- identity ---------------------------------------------------------------------------


def nir_identifier(nir: str) -> dict[str, Any]:
    """The NIR as FR Core's NSS slice: type NH (the social-security number), system the
    INS-NIR OID. Not the INS-NIR slice (FRCorePatientINS): that one may only carry an
    identity qualified through the INSi teleservice, which Carnet does not call."""
    return {
        "use": "official",
        "type": {
            "coding": [
                {"system": IDENTIFIER_TYPE, "code": "NH", "display": "Numéro de sécurité sociale"}
            ]
        },
        "system": NIR_SYSTEM,
        "value": nir,
    }


def identity_reliability() -> dict[str, Any]:
    """FR Core's identity-reliability extension: provisional (PROV). Carnet records no
    check of an identity document and never queries the INSi teleservice, so no identity
    it holds is validated or qualified."""
    return {
        "url": FR_IDENTITY_RELIABILITY,
        "extension": [
            {
                "url": "identityStatus",
                "valueCoding": {
                    "system": FR_IDENTITY_STATUS,
                    "code": "PROV",
                    "display": "Identité provisoire",
                },
            }
        ],
    }


def patient(row: Any) -> dict[str, Any]:
    """records.Patient -> Patient. The birth name is the official name, the used name
    (nom d'usage) the usual one."""
    given = [name for name in re.split(r"[\s,]+", row.given_names) if name]
    names = [{"use": "official", "family": row.birth_name, "given": given}]
    if row.used_name and row.used_name != row.birth_name:
        names.append({"use": "usual", "family": row.used_name, "given": given})
    telecom = []
    if row.phone:
        telecom.append({"system": "phone", "value": row.phone, "use": "home"})
    if row.email:
        telecom.append({"system": "email", "value": row.email})
    address = _drop_empty(
        {"use": "home", "line": [row.address], "postalCode": row.postal_code, "city": row.city}
    )
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(row.pk),
        "identifier": [nir_identifier(row.nir)] if row.nir else [],
        "active": row.merged_into_id is None,
        "name": names,
        "telecom": telecom,
        "gender": GENDER.get(row.sex, "unknown"),
        "birthDate": day(row.birth_date),
        "deceasedDateTime": day(row.deceased_on) if row.deceased_on else None,
        "address": [{**address, "country": "FR"}] if set(address) - {"use"} else [],
        "generalPractitioner": [person_display(row.gp)] if row.gp_id else [],
        "extension": [
            identity_reliability(),
            *(
                [{"url": BIRTH_PLACE, "valueAddress": {"city": row.birth_place}}]
                if row.birth_place
                else []
            ),
        ],
        # A merged duplicate points to the record that was kept.
        "link": (
            [{"other": patient_reference(row.merged_into_id), "type": "replaced-by"}]
            if row.merged_into_id
            else []
        ),
    }
    return _drop_empty(resource)


# --- clinical entries -------------------------------------------------------------------


def encounter(row: Any) -> dict[str, Any]:
    """records.Encounter -> Encounter: when, how, why. The SOAP note is not served."""
    code, display = ENCOUNTER_CLASS.get(row.kind, ("AMB", "ambulatory"))
    return _drop_empty(
        {
            "resourceType": "Encounter",
            "id": str(row.pk),
            "status": "entered-in-error" if _in_error(row) else "finished",
            "class": {"system": ACT_CODE, "code": code, "display": display},
            "type": [{"text": row.get_kind_display()}],
            "subject": patient_reference(row.patient_id),
            "participant": [{"individual": person_display(row.author)}],
            "period": {"start": instant(row.occurred_at)},
            "reasonCode": [{"text": row.reason}] if row.reason else [],
        }
    )


def cim10_dotted(code: str) -> str:
    """E119 -> E11.9, the way ICD-10 codes are written."""
    code = code.replace(".", "").upper()
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def condition(row: Any) -> dict[str, Any]:
    """records.Problem -> Condition, on the problem list."""
    code: dict[str, Any] = {"text": row.label}
    if row.code:
        code["coding"] = [{"system": ICD10_SYSTEM, "code": cim10_dotted(row.code)}]
    resolved = row.clinical_status == "resolved"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(row.pk),
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": code,
        "subject": patient_reference(row.patient_id),
        "onsetDateTime": day(row.onset) if row.onset else None,
        "abatementDateTime": day(row.resolved_on) if resolved and row.resolved_on else None,
        "recordedDate": instant(row.recorded_at),
        "recorder": person_display(row.author),
    }
    if _in_error(row):
        # FHIR: no clinical status on a condition entered in error.
        resource["verificationStatus"] = {
            "coding": [{"system": CONDITION_VERIFICATION, "code": "entered-in-error"}]
        }
    else:
        status = "resolved" if resolved else "active"
        resource["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": status}]}
    return _drop_empty(resource)


def allergy_intolerance(row: Any) -> dict[str, Any]:
    """records.Allergy -> AllergyIntolerance."""
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": str(row.pk),
        "type": "intolerance" if row.kind == "intolerance" else "allergy",
        "criticality": ALLERGY_CRITICALITY.get(row.severity, "unable-to-assess"),
        "code": {"text": row.substance},
        "patient": patient_reference(row.patient_id),
        "recordedDate": instant(row.recorded_at),
        "recorder": person_display(row.author),
        "reaction": (
            [
                {
                    "manifestation": [{"text": row.reaction}],
                    "severity": row.severity if row.severity in ALLERGY_CRITICALITY else None,
                }
            ]
            if row.reaction
            else []
        ),
    }
    if _in_error(row):
        resource["verificationStatus"] = {
            "coding": [{"system": ALLERGY_VERIFICATION, "code": "entered-in-error"}]
        }
    else:
        resource["clinicalStatus"] = {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]}
    return _drop_empty(resource)


def medication_request(item: Any, *, today: date) -> dict[str, Any]:
    """One line of a prescription (records.PrescriptionItem) -> MedicationRequest.

    Lines of one ordonnance share its ``groupIdentifier``. A line is active until the
    end of its duration, renewals included.
    """
    prescription = item.prescription
    medication: dict[str, Any] = {"text": item.drug_label}
    if item.drug_id:
        medication["coding"] = [
            {"system": CIS_SYSTEM, "code": item.drug_id, "display": item.drug_label}
        ]
    if _in_error(prescription):
        status = "entered-in-error"
    else:
        status = "active" if item.ends_on() >= today else "completed"
    return _drop_empty(
        {
            "resourceType": "MedicationRequest",
            "id": str(item.pk),
            "status": status,
            "intent": "order",
            "groupIdentifier": {"value": f"prescription-{prescription.pk}"},
            "medicationCodeableConcept": medication,
            "subject": patient_reference(prescription.patient_id),
            "authoredOn": day(prescription.prescribed_on),
            "requester": person_display(prescription.author),
            "dosageInstruction": [{"text": item.posology}],
            "dispenseRequest": {
                "numberOfRepeatsAllowed": prescription.renewals,
                "expectedSupplyDuration": {
                    "value": item.duration_days,
                    "unit": "days",
                    "system": UCUM_SYSTEM,
                    "code": "d",
                },
            },
            "substitution": {"allowedBoolean": item.substitutable},
        }
    )


def immunization(row: Any) -> dict[str, Any]:
    """records.Immunization -> Immunization."""
    vaccine: dict[str, Any] = {"text": row.vaccine}
    if row.drug_id:
        vaccine["coding"] = [{"system": CIS_SYSTEM, "code": row.drug_id, "display": row.vaccine}]
    return _drop_empty(
        {
            "resourceType": "Immunization",
            "id": str(row.pk),
            "status": "entered-in-error" if _in_error(row) else "completed",
            "vaccineCode": vaccine,
            "patient": patient_reference(row.patient_id),
            "occurrenceDateTime": day(row.vaccinated_on),
            "recorded": instant(row.recorded_at),
            "lotNumber": row.lot_number,
            "protocolApplied": [{"doseNumberString": row.dose}] if row.dose else [],
        }
    )


def observation_code(row: Any) -> dict[str, Any]:
    if LOINC_CODE.match(row.code):
        return {
            "coding": [{"system": LOINC_SYSTEM, "code": row.code, "display": row.label}],
            "text": row.label,
        }
    return {"text": row.label or row.code}


def observation_category(code: str) -> str:
    """vital-signs (the LOINC codes of vital signs), laboratory (other LOINC codes: the
    results Carnet receives), exam (Carnet's own codes: what the practitioner noted)."""
    if code in VITAL_SIGN_CODES:
        return "vital-signs"
    return "laboratory" if LOINC_CODE.match(code) else "exam"


def observation(row: Any) -> dict[str, Any]:
    """records.Observation -> Observation: a number with its unit, or a text result."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.pk),
        "status": "entered-in-error" if _in_error(row) else "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": observation_category(row.code)}]}
        ],
        "code": observation_code(row),
        "subject": patient_reference(row.patient_id),
        "encounter": {"reference": f"Encounter/{row.encounter_id}"} if row.encounter_id else None,
        "effectiveDateTime": instant(row.effective_at),
        "performer": [person_display(row.author)],
    }
    if row.value is not None:
        quantity: dict[str, Any] = {"value": number(row.value)}
        if row.unit:
            quantity["unit"] = row.unit
            if row.unit in UCUM_UNITS:
                quantity.update(system=UCUM_SYSTEM, code=row.unit)
        resource["valueQuantity"] = quantity
    elif row.value_text:
        resource["valueString"] = row.value_text
    else:
        resource["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "unknown"}]}
    return _drop_empty(resource)


def document_reference(row: Any, *, url: str) -> dict[str, Any]:
    """records.Document -> DocumentReference. The content is not inlined: ``url`` is the
    document's page in Carnet, which applies the policy and audits the read again."""
    content_type = row.content_type or "application/pdf"  # a letter is printed as a PDF
    attachment = {
        "contentType": content_type,
        "url": url,
        "title": row.title,
        "size": row.size or None,
    }
    return _drop_empty(
        {
            "resourceType": "DocumentReference",
            "id": str(row.pk),
            "status": "entered-in-error" if _in_error(row) else "current",
            "type": {"text": row.get_kind_display()},
            "subject": patient_reference(row.patient_id),
            "date": instant(row.recorded_at),
            "author": [person_display(row.author)],
            "description": row.title,
            "content": [{"attachment": attachment}],
            "context": {"period": {"start": day(row.document_date)}},
        }
    )


# --- the patient's choices and the access log -------------------------------------------


def _security_label(label: str) -> dict[str, str]:
    code = SENSITIVITY_CODES.get(label)
    if code:
        return {"system": ACT_CODE, "code": code, "display": label}
    return {"code": label}  # a label the practice defined: no standard code


def _consent_actors(row: Any) -> list[dict[str, Any]]:
    recipient = {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP"}]}
    actors: list[dict[str, Any]] = [
        {
            "role": recipient,
            "reference": {
                "type": "Organization",
                "display": f"{row.grantee_node}/{row.grantee_practice}",
            },
        }
    ]
    if row.grantee_practitioner:
        actors.append(
            {
                "role": recipient,
                "reference": {
                    "type": "Practitioner",
                    "identifier": {"system": RPPS_SYSTEM, "value": f"8{row.grantee_practitioner}"},
                },
            }
        )
    return actors


def consent(row: Any) -> dict[str, Any]:
    """core.access SharingConsent -> Consent: the patient permits one recipient to
    receive some categories of data (``provision.class``), sensitive labels only when
    named (``provision.securityLabel``), for a purpose and a period."""
    purpose = (
        {"system": ACT_REASON, "code": "TREAT"} if row.purpose == "care" else {"code": row.purpose}
    )
    provision = {
        "type": "permit",
        "period": {
            "start": day(row.valid_from),
            "end": day(row.valid_until) if row.valid_until else None,
        },
        "actor": _consent_actors(row),
        "purpose": [purpose],
        "class": [
            {"system": RESOURCE_TYPES, "code": SHARE_CATEGORY_TYPES[category]}
            for category in row.categories
            if category in SHARE_CATEGORY_TYPES
        ],
        "securityLabel": [_security_label(label) for label in row.labels],
    }
    return _drop_empty(
        {
            "resourceType": "Consent",
            "id": str(row.pk),
            "status": "active" if row.status == "active" else "inactive",
            "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": LOINC_SYSTEM, "code": "59284-0"}]}],
            "patient": patient_reference(row.patient_id),
            "dateTime": instant(row.recorded_at),
            "performer": [patient_reference(row.patient_id)],
            "sourceReference": (
                {"reference": f"DocumentReference/{row.scan_document_id}"}
                if row.scan_document_id
                else None
            ),
            "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
            "provision": provision,
        }
    )


AUDIT_OUTCOME = {"success": "0", "denied": "4", "failure": "8"}
AUDIT_VERB = {
    "create": "C",
    "read": "R",
    "print": "R",
    "export": "R",
    "update": "U",
    "write": "U",
    "entered_in_error": "U",
    "merge": "U",
}


def audit_action(action: str, details: dict[str, Any]) -> str:
    """C, R, U or E (execute: searches, choices, everything else)."""
    if action == "access.denied":
        return AUDIT_VERB.get(str(details.get("action", "read")), "E")
    return AUDIT_VERB.get(action.rsplit(".", 1)[-1], "E")


def audit_event(row: Any, *, who: str, observer: str) -> dict[str, Any]:
    """One line of the patient's access log (core.audit AuditEvent) -> AuditEvent.

    What the access report shows: who, what, when, the outcome, and why a refusal was
    made. The free-text reason of a correction is left out: it may hold clinical words.
    """
    refused = row.outcome != "success"
    return _drop_empty(
        {
            "resourceType": "AuditEvent",
            "id": str(row.pk),
            "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
            "subtype": [{"code": row.action}],
            "action": audit_action(row.action, row.details or {}),
            "recorded": instant(row.occurred_at),
            "outcome": AUDIT_OUTCOME.get(row.outcome, "8"),
            "outcomeDesc": row.reason if refused else None,
            "agent": [{"who": {"display": who}, "requestor": True}],
            "source": {"observer": {"display": observer}},
            "entity": [{"what": patient_reference(row.patient_id)}],
        }
    )
