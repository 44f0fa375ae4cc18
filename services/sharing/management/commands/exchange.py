"""carnet exchange [--loop SECONDS]: deliver the outbox (with retries and backoff) and
apply received receipts and revocation notices, for every practice of the node."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from core import tenancy
from core.practices.models import Practice
from sharing import exchange


class Command(BaseCommand):
    help = "Deliver outgoing messages and process incoming notices."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            for practice in Practice.objects.filter(is_active=True):
                with tenancy.practice_context(practice.pk):
                    counts = exchange.deliver_pending()
                    notices = exchange.process_notices()
                if any(counts.values()) or notices:
                    self.stdout.write(f"{practice.slug}: {counts}, {notices} notices")
            if not options["loop"]:
                return
            time.sleep(options["loop"])
