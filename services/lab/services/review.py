"""The practitioner reads a report (the first opening by the practitioner it is filed
for marks it read) and signs it off: "vu, RAS" or "vu, à revoir", with a note."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Actor
from lab.models import Conclusion, FileStatus, LabFile
from records.selectors.lab import LabReport, lab_report
from records.services import care_time
from records.services.lab import lab_report_may_sign_off, lab_report_sign_off


def _filed(lab_file_id: int) -> LabFile:
    lab_file = LabFile.objects.filter(pk=lab_file_id, status=FileStatus.FILED).first()
    if lab_file is None or lab_file.report_id is None:
        raise Http404(_("No such result in this practice."))
    return lab_file


@transaction.atomic
def report_open(*, actor: Actor, lab_file_id: int) -> tuple[LabFile, LabReport]:
    """The report and its results as the policy lets the actor see them (audited by the
    record); read from now on if the actor is the practitioner it was filed for."""
    lab_file = _filed(lab_file_id)
    assert lab_file.report_id is not None
    report = lab_report(actor, lab_file.report_id)
    if lab_file.read_at is None and lab_file.practitioner_id == actor.person_id:
        lab_file.read_at = timezone.now()
        lab_file.save(update_fields=["read_at"])
    return lab_file, report


@transaction.atomic
def sign_off(
    *,
    actor: Actor,
    lab_file_id: int,
    conclusion: str,
    note: str = "",
    draft: str = "",
    through_api: bool = False,
) -> LabFile:
    lab_file = _filed(lab_file_id)
    assert lab_file.report_id is not None
    lab_report_may_sign_off(actor=actor, report_id=lab_file.report_id)  # the policy first
    if conclusion not in Conclusion.values:
        raise ValidationError(
            {"conclusion": [_("Choose “seen, nothing to report” or “seen, to review”.")]},
            code="conclusion",
        )
    note = note.strip()
    if len(note) > 2000:
        raise ValidationError({"note": [_("The note is too long (2,000 characters at most).")]})
    if conclusion == Conclusion.TO_REVIEW and not note:
        raise ValidationError({"note": [_("Say what is to be reviewed.")]}, code="required")
    if lab_file.signed_off_at is not None:
        raise ValidationError(_("These results are already signed off."), code="status")
    lab_report_sign_off(actor=actor, report_id=lab_file.report_id, conclusion=conclusion, note=note)
    now = timezone.now()
    lab_file.read_at = lab_file.read_at or now
    lab_file.signed_off_at, lab_file.signed_off_by_id = now, actor.person_id
    lab_file.conclusion, lab_file.note = conclusion, note[:2000]
    lab_file.save(update_fields=["read_at", "signed_off_at", "signed_off_by", "conclusion", "note"])
    # Reading and signing off is documentation: timed from the page's opening (draft).
    care_time.act_record(
        actor=actor,
        kind=care_time.ActKind.LAB_RESULT,
        token=draft,
        patient_id=lab_file.patient_id,
        entry_id=lab_file.pk,
        now=now,
        source="api" if through_api else "form",
    )
    return lab_file
