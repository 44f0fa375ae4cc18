"""A member practice leaves the cooperative (issue 22, "Leaving").

1. Its administrator takes the full export (``carnet.practice_export``, encrypted to a key
   they give) and asks to leave, confirming with the practice's name: the membership
   is ``leaving`` and the notice (``CARNET_LEAVING_NOTICE_DAYS``) starts. Until its end
   they may change their mind (``leaving_withdraw``).
2. Once the notice has run, ``practice_purge`` (``carnet practice_purge``, run by the
   tables' owner role) deletes every row of the practice, table by table: the tables
   with a ``practice_id`` column, each service's rows that hang on them (its receivers
   of ``practice_purging``) and the staff who worked nowhere else. It keeps what the
   cooperative must keep: the practice and its membership record, its application, the
   cooperative's dues invoices with their payments (``register_kept``), and the
   cooperative's own trail (the node's chain), where the deletion is recorded with the
   practice chain's last event.
3. The node signs a certificate of deletion with its key; it is kept with the
   membership record and reads back with ``carnet audit verify``'s keys.

Nothing here reads a patient: the purge counts and deletes rows by practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import openpgp
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.anchor import PRACTICE_DELETED
from core.audit.models import AuditChain, AuditEvent
from core.audit.services import NODE_CHAIN, record_event
from core.practices.models import CooperativeMembership, Practice

# Sent inside the purge's transaction, before the practice's tables are emptied, with
# ``practice_id`` and ``person_ids`` (the staff deleted with the practice). A receiver
# deletes its service's rows that have no ``practice_id`` of their own (a practitioner's
# invoice issuer...) and returns {table: rows deleted}.
practice_purging = Signal()

DELETED_ACTION = PRACTICE_DELETED
EXPORT_ACTION = "cooperative.leaving.export"


@dataclass(frozen=True)
class Kept:
    """Rows of a practice's table the purge keeps: ``predicate`` is SQL on the row."""

    predicate: str
    reason: str


_kept: dict[str, Kept] = {
    "practices_cooperativemembership": Kept("true", "the membership record"),
    "practices_membershipapplication": Kept("true", "the membership record"),
}


def register_kept(table: str, predicate: str, reason: str) -> None:
    """A service names the rows of its table the cooperative keeps (its own invoices)."""
    _kept[table] = Kept(predicate, reason)


def kept_tables() -> dict[str, Kept]:
    return dict(_kept)


def notice_days() -> int:
    return int(settings.CARNET_LEAVING_NOTICE_DAYS)


def _membership(practice_id: int) -> CooperativeMembership:
    membership = (
        CooperativeMembership.objects.select_for_update()
        .select_related("practice")
        .filter(practice_id=practice_id)
        .first()
    )
    if membership is None:
        raise ValidationError(_("This practice is not a member of the cooperative."))
    return membership


def _both_chains(action: str, actor: Actor | None, practice: Practice, **details: Any) -> None:
    """The practice's chain (it leaves with it) and the cooperative's (which stays)."""
    for node_chain in (False, True):
        record_event(
            action,
            actor=actor,
            practice_id=practice.pk,
            node_chain=node_chain,
            target=f"practice:{practice.slug}",
            details=details,
        )


@transaction.atomic
def leaving_request(*, actor: Actor, practice_id: int, confirmation: str) -> CooperativeMembership:
    """Ask to leave: the practice's name typed again confirms it. The notice starts."""
    require_practice(actor, PracticeAction.LEAVE_COOPERATIVE, practice_id)
    membership = _membership(practice_id)
    practice = membership.practice
    if membership.status in (
        CooperativeMembership.Status.LEAVING,
        CooperativeMembership.Status.LEFT,
    ):
        raise ValidationError(_("This practice has already asked to leave."))
    if confirmation.strip().casefold() != practice.name.strip().casefold():
        raise ValidationError(
            {"confirmation": _("Type the practice's name exactly as shown to confirm.")}
        )
    today = timezone.localdate()
    membership.status = CooperativeMembership.Status.LEAVING
    membership.leaving_requested_at = timezone.now()
    membership.leaving_effective_on = today + timedelta(days=notice_days())
    membership.save(update_fields=["status", "leaving_requested_at", "leaving_effective_on"])
    _both_chains(
        "cooperative.leaving.request",
        actor,
        practice,
        effective_on=membership.leaving_effective_on.isoformat(),
    )
    return membership


@transaction.atomic
def leaving_withdraw(*, actor: Actor, practice_id: int) -> CooperativeMembership:
    """The practice stays after all (before the notice's end)."""
    require_practice(actor, PracticeAction.LEAVE_COOPERATIVE, practice_id)
    membership = _membership(practice_id)
    if membership.status != CooperativeMembership.Status.LEAVING:
        raise ValidationError(_("This practice has not asked to leave."))
    membership.status = CooperativeMembership.Status.ACTIVE
    membership.leaving_requested_at = None
    membership.leaving_effective_on = None
    membership.save(update_fields=["status", "leaving_requested_at", "leaving_effective_on"])
    _both_chains("cooperative.leaving.withdraw", actor, membership.practice)
    return membership


def export_recorded(
    *, actor: Actor, practice: Practice, archive_sha256: str, recipient: str, rows: dict
) -> None:
    """An encrypted export was handed to the practice: on both chains, with the digest
    of what was handed (the certificate of deletion lists them)."""
    _both_chains(
        EXPORT_ACTION,
        actor,
        practice,
        sha256=archive_sha256,
        recipient=recipient,
        rows=rows,
    )


def due_for_deletion(today: date | None = None) -> list[Practice]:
    """Practices whose notice has run."""
    today = today or timezone.localdate()
    return [
        membership.practice
        for membership in CooperativeMembership.objects.select_related("practice").filter(
            status=CooperativeMembership.Status.LEAVING, leaving_effective_on__lte=today
        )
    ]


@dataclass(frozen=True)
class Deletion:
    practice: Practice
    rows: dict[str, int]
    kept: dict[str, int]
    certificate: str
    fingerprint: str


def _tables_with_practice() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'practice_id'"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            " AND NOT a.attisdropped ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


def _require_owner() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user = pg_get_userbyid(relowner) FROM pg_class"
            " WHERE oid = 'audit_event'::regclass"
        )
        (is_owner,) = cursor.fetchone() or (False,)
    if not is_owner:
        raise PermissionError(
            "Deleting a practice needs the tables' owner role: run `carnet practice_purge`."
        )


def _leaving_staff(practice_id: int) -> list[int]:
    """The practice's staff who work in no other practice and hold no node role: their
    accounts go with the practice."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id FROM accounts_person p WHERE EXISTS (SELECT 1 FROM accounts_membership m"
            "  WHERE m.person_id = p.id AND m.practice_id = %s)"
            " AND NOT EXISTS (SELECT 1 FROM accounts_membership m"
            "  WHERE m.person_id = p.id AND m.practice_id <> %s)"
            " AND NOT p.is_cooperative_admin AND NOT p.is_node_admin ORDER BY p.id",
            [practice_id, practice_id],
        )
        return [row[0] for row in cursor.fetchall()]


def _delete_people(person_ids: list[int]) -> dict[str, int]:
    """Their second factors, their sessions, then the accounts themselves."""
    rows: dict[str, int] = {}
    if not person_ids:
        return rows
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM otp_totp_totpdevice WHERE user_id = ANY(%s)", [person_ids])
        rows["otp_totp_totpdevice"] = cursor.rowcount
        cursor.execute("DELETE FROM accounts_session WHERE person_id = ANY(%s)", [person_ids])
        rows["accounts_session"] = cursor.rowcount
        cursor.execute("DELETE FROM accounts_person WHERE id = ANY(%s)", [person_ids])
        rows["accounts_person"] = cursor.rowcount
    return rows


def practice_purge(*, practice_id: int, today: date | None = None) -> Deletion:
    """Delete a practice whose notice has run; sign and keep the certificate.

    One transaction: every row goes, or none (a row left pointing at a deleted one makes
    the deferred foreign keys fail before anything is committed)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        _require_owner()
        membership = _membership(practice_id)
        practice = membership.practice
        if membership.status != CooperativeMembership.Status.LEAVING:
            raise ValidationError(_("This practice has not asked to leave."))
        assert membership.leaving_effective_on is not None  # set with the status
        if membership.leaving_effective_on > today:
            raise ValidationError(
                _("The notice runs until %(day)s: the practice's data is deleted after it.")
                % {"day": membership.leaving_effective_on.isoformat()}
            )
        head = AuditChain.objects.select_for_update().filter(chain=practice.pk).first()
        last_seq, last_hash = (head.seq, head.hash) if head else (0, "")
        exports = list(
            AuditEvent.objects.filter(
                chain=NODE_CHAIN, action=EXPORT_ACTION, target=f"practice:{practice.slug}"
            )
            .order_by("seq")
            .values_list("occurred_at", "details")
        )
        staff = _leaving_staff(practice.pk)
        rows: dict[str, int] = {}
        kept: dict[str, int] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('carnet.purging_practice', %s, true)", [str(practice.pk)]
            )
            for _receiver, counts in practice_purging.send(
                sender=Practice, practice_id=practice.pk, person_ids=staff
            ):
                rows.update(cast(dict[str, int], counts or {}))
            for table in _tables_with_practice():
                rule = _kept.get(table)
                where = "practice_id = %s"
                if rule is not None:
                    cursor.execute(
                        f"SELECT count(*) FROM {table} WHERE {where} AND ({rule.predicate})",  # noqa: S608  # nosec B608 - table names from the catalogue, predicates from the code
                        [practice.pk],
                    )
                    kept[table] = cursor.fetchone()[0]
                    where += f" AND NOT ({rule.predicate})"
                if table == "audit_event":
                    # The cooperative's events about the practice stay in its own chain.
                    where += f" AND chain <> {NODE_CHAIN}"
                cursor.execute(f"DELETE FROM {table} WHERE {where}", [practice.pk])  # noqa: S608  # nosec B608
                rows[table] = cursor.rowcount
            cursor.execute("DELETE FROM audit_chain WHERE chain = %s", [practice.pk])
            rows["audit_chain"] = cursor.rowcount
            rows.update(_delete_people(staff))
            # Anything still pointing at a deleted row fails here, and nothing is kept.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SELECT set_config('carnet.purging_practice', '', true)")
        membership.status = CooperativeMembership.Status.LEFT
        membership.left_on = today
        Practice.objects.filter(pk=practice.pk).update(is_active=False)
        deleted = {table: count for table, count in sorted(rows.items()) if count}
        record_event(
            DELETED_ACTION,
            actor_label=f"node {settings.CARNET_NODE_NAME}",
            node_chain=True,
            target=f"practice:{practice.slug}",
            details={
                "chain": practice.pk,
                "last_seq": last_seq,
                "last_hash": last_hash,
                "rows": deleted,
            },
        )
        text = certificate_text(
            practice=practice,
            membership=membership,
            rows=deleted,
            kept={table: count for table, count in sorted(kept.items()) if count},
            chain_end=(last_seq, last_hash),
            exports=exports,
        )
        signed = openpgp.node_keyring().clearsign(text)
        membership.deletion_certificate = signed.text
        membership.save(update_fields=["status", "left_on", "deletion_certificate"])
        return Deletion(practice, deleted, kept, signed.text, signed.fingerprint)


def certificate_text(
    *,
    practice: Practice,
    membership: CooperativeMembership,
    rows: dict[str, int],
    kept: dict[str, int],
    chain_end: tuple[int, str],
    exports: list[tuple[Any, dict]],
) -> str:
    """The certificate, in the node's language: who, when, what was deleted and kept."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("Certificate of deletion"),
            "",
            _("Node: %(node)s") % {"node": settings.CARNET_NODE_NAME},
            _("Practice: %(name)s (%(slug)s), %(city)s")
            % {"name": practice.name, "slug": practice.slug, "city": practice.city},
            _("Asked to leave on: %(day)s")
            % {"day": f"{membership.leaving_requested_at:%Y-%m-%d}"},
            _("End of the notice: %(day)s") % {"day": f"{membership.leaving_effective_on}"},
            _("Deleted on: %(when)s") % {"when": timezone.now().strftime("%Y-%m-%d %H:%M UTC")},
            "",
            _("Exports handed to the practice (SHA-256 of the encrypted file):"),
        ]
        lines += [
            f"  {when:%Y-%m-%d %H:%M}  {details.get('sha256', '')}" for when, details in exports
        ] or ["  " + _("none")]
        seq, last_hash = chain_end
        lines += [
            "",
            _("The practice's audit trail ended at event %(seq)s, hash %(hash)s.")
            % {"seq": seq, "hash": last_hash or "-"},
            "",
            _("Rows deleted, table by table:"),
        ]
        lines += [f"  {table}: {count}" for table, count in rows.items()]
        lines += [
            "",
            _(
                "Kept, as the cooperative must: the practice's membership record, the"
                " cooperative's dues invoices to the practice and their payments, and the"
                " cooperative's own audit trail."
            ),
        ]
        lines += [f"  {table}: {count}" for table, count in kept.items()]
    return "\n".join(lines) + "\n"
