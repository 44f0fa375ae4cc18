"""A printer's correction for printing over the pre-printed feuille de soins."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import PrinterOffset
from billing.models.printer import MAX_OFFSET_MM
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event


def _millimetres(field: str, raw: object) -> Decimal:
    """A correction in millimetres, to the tenth: a number (a decimal comma is taken),
    no further than 20 mm either way."""
    text = str(raw if raw is not None else "").strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValidationError(
            {field: _("Give a number of millimetres, such as 1.5 or -2.")}, code="invalid"
        )
    if abs(value) > MAX_OFFSET_MM:
        raise ValidationError(
            {
                field: _(
                    "%(value)s mm is too far: a correction is at most 20 mm either way. "
                    "Check that the paper is fed straight and measure again."
                )
                % {"value": text}
            },
            code="too_far",
        )
    return value.quantize(Decimal("0.1"))


@transaction.atomic
def printer_offset_save(
    *, actor: Actor, practice_id: int, printer: str, x_mm: object, y_mm: object
) -> PrinterOffset:
    """Record (or correct) a printer's offsets, measured from the test print. Checks
    every value before writing: a bad one stores nothing. Audited."""
    require_practice(
        actor, PracticeAction.MANAGE_BILLING_DETAILS, practice_id, target="printer_offsets"
    )
    name = " ".join(str(printer or "").split())[:60]
    errors: dict[str, list[str]] = {}
    if not name:
        errors["printer"] = [_("Name the printer, e.g. “Reception”.")]
    values: dict[str, Decimal] = {}
    for field, raw in (("x_mm", x_mm), ("y_mm", y_mm)):
        try:
            values[field] = _millimetres(field, raw)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    offset, _created = PrinterOffset.objects.update_or_create(
        practice_id=practice_id,
        printer=name,
        defaults={**values, "updated_by_id": actor.person_id},
    )
    record_event(
        "printer.calibrate",
        actor=actor,
        target=f"printer:{offset.pk}",
        details={"x_mm": str(offset.x_mm), "y_mm": str(offset.y_mm)},
    )
    return offset
