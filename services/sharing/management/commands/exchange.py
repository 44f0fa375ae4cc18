"""carnet exchange [--loop SECONDS]: deliver the outbox (with retries and backoff) and
apply received receipts and revocation notices, for every practice of the node.

It is the node's one periodic worker, so it also forgets, once an hour, the answers
kept for retried API writes past their retention (core/idempotency.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from core import idempotency, tenancy
from core.practices.models import Practice
from sharing import services

PURGE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = "Deliver outgoing messages and process incoming notices."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        purged_at = float("-inf")
        while True:
            purge = time.monotonic() - purged_at >= PURGE_EVERY_SECONDS
            for practice in Practice.objects.filter(is_active=True):
                with tenancy.practice_context(practice.pk):
                    counts = services.deliver_pending()
                    notices = services.process_notices()
                    forgotten = idempotency.purge() if purge else 0
                if any(counts.values()) or notices:
                    self.stdout.write(f"{practice.slug}: {counts}, {notices} notices")
                if forgotten:
                    self.stdout.write(f"{practice.slug}: {forgotten} expired retry answers removed")
            if purge:
                purged_at = time.monotonic()
            if not options["loop"]:
                return
            time.sleep(options["loop"])
