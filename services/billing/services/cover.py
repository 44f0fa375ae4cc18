"""Recording the patient's insurance cover from the attestation, one row per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing.models import Cover
from core.access.policy import Actor
from core.audit.services import record_event


@dataclass(frozen=True)
class CoverInput:
    regime: str
    caisse_code: str
    caisse_name: str
    rights_from: date
    rights_until: date | None = None
    long_term_condition: bool = False
    long_term_until: date | None = None
    c2s: bool = False
    ame: bool = False
    amc_name: str = ""
    amc_number: str = ""
    amc_member_number: str = ""
    amc_contract: str = ""
    amc_until: date | None = None


def _check(values: CoverInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if values.regime not in Cover.Regime.values:
        errors["regime"] = _("Choose the scheme written on the attestation.")
    if not (len(values.caisse_code) == 3 and values.caisse_code.isdigit()):
        errors["caisse_code"] = _("The fund's code has 3 digits, e.g. 751 for the CPAM of Paris.")
    if not values.caisse_name.strip():
        errors["caisse_name"] = _("Give the fund's name, e.g. CPAM de Paris.")
    if values.rights_until and values.rights_until < values.rights_from:
        errors["rights_until"] = _("The rights cannot end before they start.")
    if values.long_term_until and not values.long_term_condition:
        errors["long_term_until"] = _("An end date for the ALD needs the ALD ticked.")
    if values.c2s and values.ame:
        errors["ame"] = _("A patient has either the C2S or the AME, not both.")
    number = values.amc_number.strip()
    if number and not (number.isdigit() and 6 <= len(number) <= 10):
        errors["amc_number"] = _("The complementary insurer's number has 6 to 10 digits.")
    if (number or values.amc_member_number.strip()) and not values.amc_name.strip():
        errors["amc_name"] = _("Give the complementary insurer's name.")
    return errors


def cover_record(*, actor: Actor, patient_id: int, values: CoverInput) -> Cover:
    """A new state of the patient's cover (the earlier ones stay, as history). Audited."""
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    errors = _check(values)
    if errors:
        raise ValidationError(errors)
    cover = Cover.objects.create(
        practice_id=actor.practice_id,
        patient_id=patient_id,
        regime=values.regime,
        caisse_code=values.caisse_code,
        caisse_name=values.caisse_name.strip()[:100],
        rights_from=values.rights_from,
        rights_until=values.rights_until,
        long_term_condition=values.long_term_condition,
        long_term_until=values.long_term_until,
        c2s=values.c2s,
        ame=values.ame,
        amc_name=values.amc_name.strip()[:100],
        amc_number=values.amc_number.strip(),
        amc_member_number=values.amc_member_number.strip()[:30],
        amc_contract=values.amc_contract.strip()[:60],
        amc_until=values.amc_until,
        recorded_by_id=actor.person_id,
    )
    record_event(
        "cover.record",
        actor=actor,
        patient_id=patient_id,
        category="administrative",
        purpose="administration",
        target=f"patient:{patient_id}:cover",
        details={"cover": str(cover.pk), "caisse": cover.caisse_code},
    )
    return cover
