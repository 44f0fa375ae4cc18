"""The practitioner's billing details: the bank account their cheques are paid into."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError as NumberError

from billing.models import Issuer
from billing.services.invoices import issuer_for
from core.access.policy import Actor
from core.accounts.models import Person
from core.audit.services import record_event


def issuer_bank_details_set(*, actor: Actor, person: Person, bank_name: str, iban: str) -> Issuer:
    """Write the bank and the IBAN printed on the practitioner's deposit slips (the
    IBAN checked with its check digits; empty clears it). Audited."""
    bank_name = bank_name.strip()[:100]
    compact = iban_number.compact(iban or "")
    if compact:
        try:
            compact = iban_number.validate(compact)
        except NumberError:
            raise ValidationError(
                {"iban": _("This IBAN is not valid: check it against the bank's RIB.")}
            ) from None
    issuer = issuer_for(person)
    issuer.bank_name, issuer.iban = bank_name, compact
    issuer.save(update_fields=["bank_name", "iban"])
    record_event(
        "issuer.bank_details",
        actor=actor,
        target=f"issuer:{issuer.pk}",
        details={"bank_name": bank_name, "iban_end": compact[-4:]},
    )
    return issuer
