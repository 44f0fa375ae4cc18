"""The billing service's tables."""

from billing.models.cover import Cover
from billing.models.fees import Act, CombinationRule
from billing.models.invoices import Invoice, InvoiceCounter, InvoiceLine, Issuer, Pathway
from billing.models.payments import (
    Allocation,
    CashDay,
    ChequeDeposit,
    DuesPayment,
    Payment,
    Rejection,
)
from billing.models.printer import PrinterOffset
from billing.models.tariffs import PracticeTariff

__all__ = [
    "Act",
    "Allocation",
    "CashDay",
    "ChequeDeposit",
    "CombinationRule",
    "Cover",
    "DuesPayment",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "Issuer",
    "Pathway",
    "Payment",
    "PracticeTariff",
    "PrinterOffset",
    "Rejection",
]
