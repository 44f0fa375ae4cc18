"""Changing a patient's identity after registration: corrections, the death, the GP of
record. Nothing is overwritten without trace.

- Every change names the version of the patient it started from. The row is locked;
  if someone saved in between, the change is refused with when (``IdentityConflict``,
  409 in the API), never applied over their work.
- The values before and after are kept in ``IdentityChange`` with who, when and why;
  the chart shows them.
- The audit event names the fields changed, never their values: the trail cannot be
  erased, and an old address or a wrong NIR must not stay in it for ever.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, Purpose
from core.audit.services import record_event
from core.practices.selectors import country_of
from records import access as records_access
from records import nir as nir_rules
from records import niss as niss_rules
from records.access import PatientAccess
from records.models import CareTeamMember, IdentityChange, Patient
from records.selectors.identity import gp_candidates

# What "Correct the identity" may change. The GP of record and the death have their own
# steps (a date each, their own audit event); the merge too.
CORRECTABLE = (
    "birth_name",
    "used_name",
    "given_names",
    "sex",
    "birth_date",
    "birth_place",
    "nir",
    "address",
    "postal_code",
    "city",
    "phone",
    "email",
    "contact_preference",
    "trusted_person_name",
    "trusted_person_relation",
    "trusted_person_phone",
    "advance_directives",
    "advance_directives_location",
)

EARLIEST_BIRTH_YEAR = 1880


class IdentityConflict(Exception):
    """Someone changed this patient after the version the change was based on."""

    def __init__(self, patient: Patient) -> None:
        when = timezone.localtime(patient.updated_at).strftime("%d/%m/%Y %H:%M")
        super().__init__(
            _(
                "This patient's identity was changed by someone else (%(when)s). "
                "Reload the page and redo your change."
            )
            % {"when": when}
        )
        self.patient = patient


def check_gp(practice_id: int, gp_id: int | None) -> None:
    if gp_id is not None and gp_id not in {p.pk for p in gp_candidates(practice_id)}:
        raise ValidationError(
            {"gp": _("Choose a doctor of this practice as GP of record.")}, code="gp"
        )


def check_birth_date(born: date | None) -> None:
    if born is None:
        return
    if born > timezone.localdate():
        raise ValidationError(
            {"birth_date": _("The birth date cannot be in the future.")}, code="future"
        )
    if born.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError({"birth_date": _("Check the birth date.")}, code="too_old")


def check_nir(
    nir: str,
    *,
    sex: str,
    birth_date: date | None,
    patient_id: int | None,
    country: str = "FR",
) -> None:
    """A valid NIR, coherent with sex and birth date, not used by another patient of
    the practice (row-level security limits the lookup to the practice). In a Belgian
    practice the same field holds the national number (NISS), checked by its own rules;
    each country refuses the other's number by name."""
    if not nir:
        return
    try:
        if country == "BE":
            value = niss_rules.validate(nir)
        else:
            niss_rules.refuse_in_france(nir)
            parsed = nir_rules.parse(nir)
            nir_rules.check_coherence(parsed, sex=sex, birth_date=birth_date)
            value = parsed.value
    except ValidationError as error:
        raise ValidationError({"nir": error.messages}) from error
    others = Patient.objects.filter(nir=value)
    if patient_id is not None:
        others = others.exclude(pk=patient_id)
    if others.exists():
        raise ValidationError(
            {"nir": _("A patient with this NIR is already registered.")}, code="duplicate"
        )


def check_contact(preference: str, *, phone: str, email: str) -> None:
    """A paper-only patient has no phone and no e-mail; a patient reached by phone or
    e-mail has one of them. An empty choice (older records) is not judged."""
    if preference == Patient.Contact.PAPER and (phone or email):
        raise ValidationError(
            {
                "contact_preference": _(
                    "A paper-only patient has no phone or e-mail: clear them, "
                    "or choose to reach the patient by phone or e-mail."
                )
            },
            code="paper_with_phone",
        )
    if preference == Patient.Contact.PHONE_OR_EMAIL and not (phone or email):
        raise ValidationError(
            {
                "contact_preference": _(
                    "Give a phone number or an e-mail, or choose paper only "
                    "(by post or at the desk)."
                )
            },
            code="no_phone_nor_email",
        )


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _lock(
    actor: Actor, access: PatientAccess, expected_version: int, category: Category
) -> Patient:
    # Each change is recorded once by its caller, saying what changed.
    records_access.require(
        actor,
        Action.WRITE,
        category,
        access.patient,
        purpose=Purpose.ADMINISTRATION,
        access=access,
        audit_success=False,
    )
    patient = (
        Patient.objects.select_for_update(of=("self",))
        .select_related("gp")
        .get(pk=access.patient.pk)
    )
    if patient.merged_into_id:
        raise ValidationError(
            _("This record was merged into another one: change the record that was kept."),
            code="merged",
        )
    if patient.version != expected_version:
        raise IdentityConflict(patient)
    return patient


def _clean_value(name: str, value: Any) -> Any:
    if name == "nir":
        return nir_rules.normalise(value or "")
    if isinstance(value, str):
        return value.strip()
    return value


def _keep(
    actor: Actor,
    patient: Patient,
    kind: str,
    changes: dict[str, list[str | None]],
    reason: str,
    effective_on: date | None = None,
) -> IdentityChange:
    return IdentityChange.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        kind=kind,
        changes=changes,
        reason=reason,
        effective_on=effective_on,
        version=patient.version,
        changed_by_id=actor.person_id,
    )


@transaction.atomic
def patient_identity_correct(
    *,
    actor: Actor,
    access: PatientAccess,
    expected_version: int,
    reason: str,
    **changes: Any,
) -> Patient:
    """Correct identity or contact fields, with a reason. The NIR is validated again
    against the resulting sex and birth date, and must stay unique in the practice."""
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValueError(f"not correctable here: {sorted(unknown)}")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the identity is corrected.")}, code="no_reason")
    patient = _lock(actor, access, expected_version, Category.IDENTITY)
    wanted = {name: _clean_value(name, value) for name, value in changes.items()}
    changed = {name: value for name, value in wanted.items() if value != getattr(patient, name)}
    if not changed:
        raise ValidationError(_("Nothing was changed."), code="no_change")
    after = {name: getattr(patient, name) for name in CORRECTABLE} | changed
    check_birth_date(after["birth_date"] if "birth_date" in changed else None)
    if {"nir", "sex", "birth_date"} & set(changed):
        check_nir(
            after["nir"],
            sex=after["sex"],
            birth_date=after["birth_date"],
            patient_id=patient.pk,
            country=country_of(actor.practice_id) if actor.practice_id else "FR",
        )
    if {"contact_preference", "phone", "email"} & set(changed):
        check_contact(after["contact_preference"], phone=after["phone"], email=after["email"])
    before = {name: getattr(patient, name) for name in changed}
    for name, value in changed.items():
        setattr(patient, name, value)
    patient.version += 1
    patient.full_clean(exclude=["practice", "gp", "merged_into"], validate_constraints=False)
    patient.save()
    _keep(
        actor,
        patient,
        IdentityChange.Kind.CORRECTION,
        {name: [_as_text(before[name]), _as_text(changed[name])] for name in changed},
        reason,
    )
    record_event(
        "patient.identity_corrected",
        actor=actor,
        patient_id=patient.pk,
        category=Category.IDENTITY.value,
        purpose=Purpose.ADMINISTRATION.value,
        target=f"patient:{patient.pk}",
        details={"fields": sorted(changed)},
    )
    return patient


@transaction.atomic
def patient_death_record(
    *,
    actor: Actor,
    access: PatientAccess,
    expected_version: int,
    deceased_on: date | None,
    confirmed: bool,
    reason: str = "",
) -> Patient:
    """Record the date of death (confirmed by the person), or correct it, or withdraw a
    death recorded by mistake (``deceased_on=None``): a correction needs a reason."""
    reason = reason.strip()
    if not confirmed:
        raise ValidationError(
            {"confirmed": _("Tick the box to confirm: the record will show the death.")},
            code="not_confirmed",
        )
    patient = _lock(actor, access, expected_version, Category.IDENTITY)
    if deceased_on is not None:
        if deceased_on > timezone.localdate():
            raise ValidationError(
                {"deceased_on": _("The date of death cannot be in the future.")}, code="future"
            )
        if deceased_on < patient.birth_date:
            raise ValidationError(
                {"deceased_on": _("The date of death is before the birth date.")},
                code="before_birth",
            )
    elif patient.deceased_on is None:
        raise ValidationError({"deceased_on": _("Give the date of death.")}, code="required")
    if deceased_on == patient.deceased_on:
        raise ValidationError(_("Nothing was changed."), code="no_change")
    if patient.deceased_on is not None and not reason:
        raise ValidationError(
            {"reason": _("Say why the recorded death is corrected.")}, code="no_reason"
        )
    before = patient.deceased_on
    patient.deceased_on = deceased_on
    patient.version += 1
    patient.save(update_fields=["deceased_on", "version", "updated_at"])
    _keep(
        actor,
        patient,
        IdentityChange.Kind.DEATH,
        {"deceased_on": [_as_text(before), _as_text(deceased_on)]},
        reason,
        effective_on=deceased_on,
    )
    details: dict[str, Any] = {}
    if deceased_on is None:
        details["withdrawn"] = True
    elif before is not None:
        details["corrected"] = True
    record_event(
        "patient.death_recorded",
        actor=actor,
        patient_id=patient.pk,
        category=Category.IDENTITY.value,
        purpose=Purpose.ADMINISTRATION.value,
        target=f"patient:{patient.pk}",
        details=details or None,
    )
    return patient


@transaction.atomic
def patient_gp_change(
    *,
    actor: Actor,
    access: PatientAccess,
    expected_version: int,
    gp_id: int | None,
    since: date,
    reason: str = "",
) -> Patient:
    """Change the GP of record (or record that there is none), from a date. The new GP
    joins the care team, as at registration; the former one stays in it (they cared
    for the patient) until someone removes them."""
    patient = _lock(actor, access, expected_version, Category.ADMINISTRATIVE)
    check_gp(patient.practice_id, gp_id)
    if since > timezone.localdate():
        raise ValidationError(
            {"since": _("The GP of record cannot be changed from a future date.")},
            code="future",
        )
    if since < patient.birth_date:
        raise ValidationError({"since": _("This date is before the birth date.")}, code="early")
    if gp_id == patient.gp_id and since == patient.gp_since:
        raise ValidationError(_("Nothing was changed."), code="no_change")
    changes: dict[str, list[str | None]] = {}
    if gp_id != patient.gp_id:
        new_gp = next((p for p in gp_candidates(patient.practice_id) if p.pk == gp_id), None)
        changes["gp"] = [
            patient.gp.full_name if patient.gp else None,
            new_gp.full_name if new_gp else None,
        ]
    if since != patient.gp_since:
        changes["gp_since"] = [_as_text(patient.gp_since), _as_text(since)]
    patient.gp_id = gp_id
    patient.gp_since = since
    patient.version += 1
    patient.save(update_fields=["gp", "gp_since", "version", "updated_at"])
    if gp_id is not None:
        _member, created = CareTeamMember.objects.get_or_create(
            practice_id=patient.practice_id, patient=patient, person_id=gp_id
        )
        if created:
            record_event(
                "care_team.add",
                actor=actor,
                patient_id=patient.pk,
                category=Category.ADMINISTRATIVE.value,
                target=f"person:{gp_id}",
            )
    _keep(actor, patient, IdentityChange.Kind.GP, changes, reason.strip(), effective_on=since)
    record_event(
        "patient.gp_changed",
        actor=actor,
        patient_id=patient.pk,
        category=Category.ADMINISTRATIVE.value,
        purpose=Purpose.ADMINISTRATION.value,
        target=f"person:{gp_id}" if gp_id else f"patient:{patient.pk}",
        details={"since": since.isoformat(), "gp": gp_id},
    )
    return patient
