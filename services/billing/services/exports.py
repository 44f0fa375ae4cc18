"""The month's accounting entries as a FEC file, made and recorded once for the page and
the API alike: a practice's books, and the cooperative's (its dues and their payments)."""

from __future__ import annotations

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing import accounting, reports
from billing.cooperative_accounting import Member, cooperative_entries_between
from billing.fec import number_entries, validate_fec, write_fec
from core.access.policy import Actor, CooperativeAction
from core.access.services import require_cooperative
from core.audit.services import record_event
from core.practices import selectors as practices

logger = logging.getLogger(__name__)


def fec_export(*, actor: Actor, month: date) -> tuple[str, str]:
    """The FEC text of the month and its file name (``FECyyyymmdd.txt``, the month's last
    day). A file that fails its own checks is refused, never handed out; the export is
    audited."""
    start, end = reports.month_bounds(month)
    entries = accounting.entries_between(start, end)
    text = write_fec(number_entries(entries))
    # A month without entries is a header alone; otherwise the file must pass the checks.
    problems = validate_fec(text) if entries else []
    if problems:
        logger.error("FEC export of %s failed its own checks: %s", month, problems[:5])
        raise ValidationError(
            {"month": [_("The accounting export failed its checks; nothing was exported.")]}
        )
    record_event("accounting.export_fec", actor=actor, target=f"month:{month:%Y-%m}")
    return text, f"FEC{end:%Y%m%d}.txt"


def cooperative_fec_export(*, actor: Actor, month: date) -> tuple[str, str]:
    """The cooperative's FEC for a month: its dues invoices and the payments it received.
    A file failing its own checks is refused; the export is audited on the node's chain."""
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target="cooperative:fec")
    start, end = reports.month_bounds(month)
    members = [Member(m.practice_id, m.name) for m in practices.cooperative_members()]
    entries = cooperative_entries_between(start, end, members)
    text = write_fec(number_entries(entries))
    if entries and validate_fec(text):
        raise ValidationError(
            {"month": [_("The accounting export failed its checks; nothing was exported.")]}
        )
    record_event(
        "cooperative.export_fec", actor=actor, node_chain=True, target=f"month:{month:%Y-%m}"
    )
    return text, f"FEC-cooperative-{end:%Y%m%d}.txt"
