"""The right patient, never a guess: a file is filed on its own only when exactly one
patient of the practice carries its identity (names folded as the search folds them,
the birth date, the sex and the NIR agreeing where both sides have them). Anything
else waits for a person, who chooses the patient in the matching queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event
from lab.models import FileStatus, LabFile
from lab.parsing import Identity, LabFileError, ParsedMessage, parse
from records.selectors.lab import Candidate, patient_candidate, patients_with_identity
from records.services.lab import LabValue, lab_results_file


@dataclass(frozen=True)
class Found:
    patient: Candidate | None
    reason_code: str = ""
    reason: str = ""


def _agrees(candidate: Candidate, identity: Identity) -> bool:
    return not (identity.sex and candidate.sex and identity.sex != candidate.sex)


def certain_patient(identity: Identity) -> Found:
    if not identity.usable:
        return Found(None, "no_identity", _("The message names no patient usable to match."))
    by_identity, by_nir = patients_with_identity(
        family=identity.family,
        given=identity.given,
        birth_date=identity.birth_date,
        nir=identity.nir,
    )
    by_identity = [c for c in by_identity if _agrees(c, identity)]
    if len(by_nir) > 1 or len(by_identity) > 1:
        return Found(
            None, "several", _("Several patients carry this identity: choose the right one.")
        )
    if by_nir and by_identity and by_nir[0].id != by_identity[0].id:
        return Found(
            None,
            "nir_disagrees",
            _("The NIR and the name and birth date point to two different patients."),
        )
    if by_nir and not by_identity:
        # A NIR alone is not enough when the names or the birth date do not agree.
        return Found(
            None,
            "nir_only",
            _("The NIR is a patient's whose name or birth date differs: check before filing."),
        )
    if not by_identity:
        return Found(None, "none", _("No patient of the practice carries this identity."))
    (candidate,) = by_identity
    if identity.nir and candidate.has_nir and not by_nir:
        return Found(
            None,
            "nir_disagrees",
            _("The patient found has another NIR than the message's: check before filing."),
        )
    return Found(candidate)


def _values(parsed: ParsedMessage) -> list[LabValue]:
    return [
        LabValue(
            code=r.code,
            code_system=r.code_system,
            label=r.label,
            value=r.value,
            value_text=r.value_text,
            unit=r.unit,
            low=r.low,
            high=r.high,
            range_text=r.range_text,
            flag=r.flag,
            status=r.status,
            observed_at=r.observed_at,
        )
        for r in parsed.results
    ]


def file_to_chart(
    actor: Actor | None,
    lab_file: LabFile,
    parsed: ParsedMessage,
    patient_id: int,
    practitioner_id: int,
) -> None:
    """Write the results in the chart and mark the file filed (one transaction)."""
    title = _("Results of %(date)s, %(lab)s") % {
        "date": parsed.observed_on.strftime("%d/%m/%Y") if parsed.observed_on else "",
        "lab": parsed.laboratory or _("laboratory"),
    }
    filed = lab_results_file(
        filed_by=actor,
        filed_by_label="" if actor else "drop-folder",
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        results=_values(parsed),
        report_title=title,
        report_text=parsed.report_text,
        observed_on=parsed.observed_on,
    )
    lab_file.status = FileStatus.FILED
    lab_file.patient_id, lab_file.practitioner_id = patient_id, practitioner_id
    lab_file.report_id = filed.report_id
    lab_file.filed_at = timezone.now()
    lab_file.reason_code = lab_file.reason = ""
    lab_file.save()


@transaction.atomic
def match(
    *, actor: Actor, lab_file_id: int, patient_id: int, practitioner_id: int | None = None
) -> LabFile:
    """A person chooses the patient of a file waiting in the queue (and the practitioner
    to file it for, the patient's GP of record by default)."""
    require_practice(actor, PracticeAction.RECEIVE_LAB_RESULTS, actor.practice_id or 0)
    lab_file = LabFile.objects.select_for_update().filter(pk=lab_file_id).first()
    if lab_file is None:
        raise ValidationError(_("No such laboratory file in this practice."), code="unknown")
    if lab_file.status != FileStatus.TO_MATCH:
        raise ValidationError(_("This file is not waiting to be matched."), code="status")
    candidate = patient_candidate(patient_id)
    if candidate is None:
        raise ValidationError({"patient": [_("No such patient in this practice.")]}, code="unknown")
    practitioner_id = practitioner_id or candidate.gp_id
    if practitioner_id is None:
        raise ValidationError(
            {"practitioner": [_("Choose the practitioner to file the results for.")]},
            code="required",
        )
    try:
        parsed = parse(bytes(lab_file.original))
    except LabFileError as error:  # a file kept as it came, unreadable since: say why
        raise ValidationError(error.message, code=error.code) from None
    lab_file.matched_by_id = actor.person_id
    file_to_chart(actor, lab_file, parsed, candidate.id, practitioner_id)
    record_event(
        "lab_file.match",
        actor=actor,
        patient_id=candidate.id,
        target=f"lab_file:{lab_file.pk}",
        details={"practitioner": practitioner_id},
    )
    return lab_file
