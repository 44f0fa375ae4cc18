"""Audit trail tables.

``AuditEvent`` rows are append-only: the application's database role may only INSERT
and SELECT them, and a trigger refuses UPDATE, DELETE and TRUNCATE for every role.
Each event is chained to the previous event of the same chain (one chain per practice,
chain 0 for node-level events such as a failed login of an unknown user) by
``hash = sha256(canonical(event) including prev_hash)``. ``AuditChain`` holds each
chain's head; its row lock serialises appends to one chain for the instant of the
append (events are written at the end of the request's transaction).
``AuditAnchor`` rows are chain heads signed with the node's OpenPGP key.
``NodeKey`` rows are the node keys, current and retired, with their rotation statements.
"""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One thing that happened: who did what, on which patient, when, why, from where."""

    chain = models.BigIntegerField()
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    practice_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80)
    outcome = models.CharField(max_length=20)
    patient_id = models.BigIntegerField(null=True, blank=True)
    category = models.CharField(max_length=60, blank=True)
    purpose = models.CharField(max_length=60, blank=True)
    reason = models.TextField(blank=True)
    target = models.CharField(max_length=200, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_event"
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq"),
        ]
        indexes = [
            models.Index(fields=["practice_id", "patient_id", "occurred_at"]),
            models.Index(fields=["practice_id", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.outcome}"


class AuditChain(models.Model):
    """The head of one chain: its last sequence number and hash."""

    chain = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_chain"


class AuditAnchor(models.Model):
    """Chain heads at one moment, signed with the node's OpenPGP key (clearsigned text)."""

    created_at = models.DateTimeField(auto_now_add=True)
    heads = models.JSONField()
    signed_text = models.TextField()
    fingerprint = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_anchor"


class NodeKey(models.Model):
    """A node key that signed, or signs, audit anchors: its fingerprint and PUBLIC key.

    The current key's secret half is in the node's keyring; a retired key's is deleted
    at its rotation, so only its public half stays, here and in the keyring. A key made
    by a rotation carries the rotation statement (who replaced whom, when) signed by the
    retired key and by itself: from the current key back, each statement proves the
    previous key, so verification trusts a retired key only through that chain.
    Node-level (no practice): read-only for the application role, written by the owner
    role (`carnet node_key rotate`); rows are never deleted.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    public_key = models.TextField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    previous_fingerprint = models.CharField(max_length=64, blank=True)
    statement = models.TextField(blank=True)
    signed_by_previous = models.TextField(blank=True)
    signed_by_self = models.TextField(blank=True)

    class Meta:
        db_table = "audit_node_key"

    def __str__(self) -> str:
        return self.fingerprint
