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
    lines_from_text,
)
from billing.services.issuers import issuer_bank_details_set
from billing.services.payments import payment_record
from billing.services.printer import printer_offset_save
from billing.services.tariffs import ImportResult, TariffInput, tariff_set, tariffs_import
from billing.services.tiers_payant import InsurerPayment, insurer_payment_record, rejection_note

__all__ = [
    "BillingError",
    "CoverInput",
    "ImportResult",
    "InsurerPayment",
    "LineInput",
    "TariffInput",
    "cover_record",
    "credit_note_issue",
    "day_close",
    "dues_issue",
    "insurer_payment_record",
    "invoice_draft",
    "invoice_issue",
    "issuer_bank_details_set",
    "issuer_for",
    "lines_from_text",
    "payment_record",
    "printer_offset_save",
    "rejection_note",
    "tariff_set",
    "tariffs_import",
]
