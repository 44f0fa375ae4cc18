"""Receiving a laboratory file: kept as it came, read, and filed to the chart only when
its patient is certain; otherwise left in the matching queue, or refused with a reason.
Each file is received once (by its content; an HL7 message also by its id).

Nothing is filed half-way: the report and all its results are written in one
transaction, or none is and the file waits in the queue with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.access.policy import Actor, PracticeAction
from core.access.services import AccessDenied, require_practice
from core.audit.services import record_event
from lab.models import FileStatus, LabFile, Source
from lab.parsing import MAX_BYTES, LabFileError, ParsedMessage, messages_of, parse
from lab.services.matching import certain_patient, file_to_chart


@dataclass(frozen=True)
class Received:
    file: LabFile
    already: bool  # the same file (or HL7 message) was received before: nothing done


def _existing(practice_id: int, sha256: str, parsed: ParsedMessage | None) -> LabFile | None:
    same = LabFile.objects.filter(practice_id=practice_id, sha256=sha256).first()
    if same is None and parsed is not None and parsed.format == "hl7v2" and parsed.message_id:
        same = LabFile.objects.filter(
            practice_id=practice_id,
            format="hl7v2",
            laboratory=parsed.laboratory[:200],
            message_id=parsed.message_id[:100],
        ).first()
    return same


def receive(
    *,
    actor: Actor | None,
    practice_id: int,
    raw: bytes,
    filename: str = "",
    source: str = Source.UPLOAD,
) -> Received:
    """Take one file in. ``actor`` is who uploads it (None for the drop folder, which
    the node's worker reads for the practice)."""
    if actor is not None:
        require_practice(actor, PracticeAction.RECEIVE_LAB_RESULTS, practice_id)
    sha256 = hashlib.sha256(raw[: MAX_BYTES + 1]).hexdigest()
    parsed: ParsedMessage | None = None
    refusal: LabFileError | None = None
    try:
        parsed = parse(raw)
    except LabFileError as error:
        refusal = error
    existing = _existing(practice_id, sha256, parsed)
    if existing is not None:
        return Received(existing, already=True)
    lab_file = LabFile(
        practice_id=practice_id,
        received_by_id=actor.person_id if actor else None,
        source=source,
        filename=filename[:255],
        sha256=sha256,
        size=len(raw),
        # A file too large is not kept whole: its first bytes tell a person what it was.
        original=raw if len(raw) <= MAX_BYTES else raw[:4096],
    )
    if refusal is not None:
        lab_file.status = FileStatus.REFUSED
        lab_file.reason_code, lab_file.reason = refusal.code, refusal.message[:300]
    else:
        assert parsed is not None
        _describe(lab_file, parsed)
    try:
        with transaction.atomic():
            lab_file.save()
            _audit("lab_file.receive", actor, lab_file)
            if parsed is not None:
                _file_if_certain(actor, lab_file, parsed)
    except IntegrityError:
        # The same file arrived at the same moment by another way: the first one stands.
        existing = _existing(practice_id, sha256, parsed)
        if existing is None:
            raise
        return Received(existing, already=True)
    return Received(lab_file, already=False)


def _describe(lab_file: LabFile, parsed: ParsedMessage) -> None:
    identity = parsed.identity
    lab_file.format = parsed.format
    lab_file.message_id = parsed.message_id[:100]
    lab_file.family, lab_file.given = identity.family[:100], identity.given[:150]
    lab_file.birth_date, lab_file.sex, lab_file.nir = (
        identity.birth_date,
        identity.sex,
        identity.nir,
    )
    lab_file.laboratory = parsed.laboratory[:200]
    lab_file.observed_on = parsed.observed_on
    lab_file.result_count = len(parsed.results)
    lab_file.abnormal_count = sum(1 for r in parsed.results if r.abnormal)
    lab_file.status = FileStatus.TO_MATCH


def _file_if_certain(actor: Actor | None, lab_file: LabFile, parsed: ParsedMessage) -> None:
    """File it when one patient is certain and has a practitioner to file it for; else
    it waits in the queue with the reason."""
    found = certain_patient(parsed.identity)
    if found.patient is None:
        lab_file.reason_code, lab_file.reason = found.reason_code, found.reason[:300]
        lab_file.save(update_fields=["reason_code", "reason"])
        return
    practitioner_id = found.patient.gp_id
    if practitioner_id is None:
        lab_file.reason_code = "no_practitioner"
        lab_file.reason = _no_practitioner()
        lab_file.save(update_fields=["reason_code", "reason"])
        return
    try:
        with transaction.atomic():
            file_to_chart(actor, lab_file, parsed, found.patient.id, practitioner_id)
    except AccessDenied:
        lab_file.reason_code = "practitioner_refused"
        lab_file.reason = _practitioner_refused()
        lab_file.save(update_fields=["reason_code", "reason"])


def _no_practitioner() -> str:
    return _("The patient has no GP of record: choose the practitioner to file it for.")


def _practitioner_refused() -> str:
    return _(
        "The patient's GP of record may not write in this chart (the patient excluded"
        " them): choose the practitioner to file it for."
    )


def _audit(action: str, actor: Actor | None, lab_file: LabFile) -> None:
    record_event(
        action,
        actor=actor,
        actor_label="" if actor else "drop-folder",
        practice_id=lab_file.practice_id,
        target=f"lab_file:{lab_file.pk}",
        details={"status": lab_file.status, "format": lab_file.format},
    )


def receive_file(
    *,
    actor: Actor | None,
    practice_id: int,
    raw: bytes,
    filename: str = "",
    source: str = Source.UPLOAD,
) -> list[Received]:
    """Take in a file that may hold several patients' messages (HPRIM): each message is
    received on its own, as if it had come alone, and is filed or waits on its own."""
    parts = messages_of(raw)
    if len(parts) == 1:
        return [
            receive(actor=actor, practice_id=practice_id, raw=raw, filename=filename, source=source)
        ]
    return [
        receive(
            actor=actor,
            practice_id=practice_id,
            raw=part,
            filename=f"{filename} ({number}/{len(parts)})"[:255],
            source=source,
        )
        for number, part in enumerate(parts, start=1)
    ]
