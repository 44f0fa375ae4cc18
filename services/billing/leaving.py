"""When a practice that left the cooperative is deleted
(``core.practices.services.leaving``): the cooperative keeps its own dues invoices to the
practice and their payments; the invoice issuers of the staff who leave with the practice
(and their counters) go with them. Their invoices, with a ``practice_id``, are deleted
with the practice's tables."""

from __future__ import annotations

from typing import Any

from django.db import connection

DUES = "kind = 'dues'"
KEPT = {
    "billing_invoice": DUES,
    "billing_invoiceline": f"invoice_id IN (SELECT id FROM billing_invoice WHERE {DUES})",  # noqa: S608  # nosec B608 - constant
    "billing_duespayment": "true",
}


def forget_issuers(*, person_ids: list[int], **_kwargs: Any) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM billing_invoicecounter WHERE issuer_id IN"
            " (SELECT id FROM billing_issuer WHERE person_id = ANY(%s))",
            [person_ids],
        )
        counters = cursor.rowcount
        cursor.execute("DELETE FROM billing_issuer WHERE person_id = ANY(%s)", [person_ids])
        return {"billing_invoicecounter": counters, "billing_issuer": cursor.rowcount}
