"""Writes of the billing service."""

from billing.services.cover import CoverInput, cover_record
from billing.services.days import day_close
from billing.services.dues import dues_issue
from billing.services.invoices import (
    BillingError,
    LineInput,
    credit_note_issue,
    invoice_draft,
    invoice_issue,
    issuer_for,
)
from billing.services.issuers import issuer_bank_details_set
from billing.services.payments import payment_record
from billing.services.printer import printer_offset_save
from billing.services.tiers_payant import InsurerPayment, insurer_payment_record, rejection_note

__all__ = [
    "BillingError",
    "CoverInput",
    "InsurerPayment",
    "LineInput",
    "cover_record",
    "credit_note_issue",
    "day_close",
    "dues_issue",
    "insurer_payment_record",
    "invoice_draft",
    "invoice_issue",
    "issuer_bank_details_set",
    "issuer_for",
    "payment_record",
    "printer_offset_save",
    "rejection_note",
]
