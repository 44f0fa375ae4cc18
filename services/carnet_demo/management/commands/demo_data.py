"""carnet demo_data: create (or keep) the demo practice and print how to log in."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from carnet_demo import practice as demo


class Command(BaseCommand):
    help = "Create the demo practice (kept on re-runs) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--patients", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        data = demo.load(options["patients"])
        port = os.environ.get("PORT", "8000")
        data["url"] = f"http://127.0.0.1:{port}/"
        path = demo.write_credentials(data)
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                f"Demo practice: {data['practice']['name']} ({data['practice']['slug']}),"
                f" {data['patients']} patients"
            )
        )
        out.write(f"Open {data['url']} and log in with one of these accounts")
        out.write(f"(password for all: {demo.PASSWORD}; second factor: add the TOTP secret to an")
        out.write(
            " authenticator app, or run `.venv/bin/carnet totp SECRET` for the current code):"
        )
        for account in data["accounts"]:
            out.write(
                f"  {account['username']:<15} {', '.join(account['roles']):<32}"
                f" TOTP secret {account['totp_secret']}"
            )
        out.write(f"API token ({data['api_token']['username']}): {data['api_token']['token']}")
        out.write(f"Written to {path}")
