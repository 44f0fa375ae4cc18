"""carnet directory listing|sign|import — the cooperative's signed directory.

carnet directory listing --practice SLUG --gateway URL [--rotate]
    this node's entry for a practice (creates its key; --rotate makes a new one)
carnet directory sign --gnupg-home DIR --fingerprint FP --version N --output FILE LISTING.json...
    (cooperative) gather listings into a directory signed with the cooperative's key
carnet directory import FILE --cooperative-key KEY.asc
    verify the directory with the cooperative's public key and install it on this node
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import gnupg
from django.core.management.base import BaseCommand, CommandError

from core import tenancy
from core.practices.models import Practice
from sharing import directory, selectors, services


class Command(BaseCommand):
    help = "Publish, sign and import the cooperative's directory of practices and keys."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("listing")
        listing.add_argument("--practice", required=True)
        listing.add_argument("--gateway", required=True)
        listing.add_argument("--rotate", action="store_true")
        sign = sub.add_parser("sign")
        sign.add_argument("--gnupg-home", required=True, type=Path)
        sign.add_argument("--fingerprint", required=True)
        sign.add_argument("--version", required=True, type=int)
        sign.add_argument("--cooperative", default="Carnet")
        sign.add_argument("--output", required=True, type=Path)
        sign.add_argument("listings", nargs="+", type=Path)
        check = sub.add_parser("verify")
        check.add_argument("file", type=Path)
        check.add_argument("--cooperative-key", required=True, type=Path)
        check.add_argument("--cooperative-fingerprint", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file", type=Path)
        imp.add_argument("--cooperative-key", required=True, type=Path)
        imp.add_argument(
            "--cooperative-fingerprint",
            default="",
            help="default: the CARNET_COOPERATIVE_FINGERPRINT setting",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "listing":
            practice = Practice.objects.filter(slug=options["practice"]).first()
            if practice is None:
                raise CommandError(f"Unknown practice: {options['practice']}")
            with tenancy.practice_context(practice.pk):
                entry = services.listing_for_practice(
                    practice, options["gateway"], rotate=options["rotate"]
                )
            self.stdout.write(json.dumps({"node": selectors.node_name(), **entry}, indent=1))
        elif action == "sign":
            nodes: dict[str, dict[str, Any]] = {}
            for path in options["listings"]:
                item = json.loads(path.read_text())
                node = nodes.setdefault(
                    item["node"],
                    {"name": item["node"], "gateway": item["gateway"], "practices": []},
                )
                node["practices"].append(
                    {k: item[k] for k in ("slug", "name", "fingerprints", "public_keys")}
                )
            document = directory.build(
                cooperative=options["cooperative"],
                version=options["version"],
                nodes=list(nodes.values()),
            )
            gpg = gnupg.GPG(gnupghome=str(options["gnupg_home"]))
            gpg.encoding = "utf-8"  # the directory is UTF-8 text (practice names)
            signed = directory.sign(gpg, document, cooperative_fingerprint=options["fingerprint"])
            options["output"].write_text(signed)
            self.stdout.write(f"Directory version {options['version']} signed: {options['output']}")
        elif action == "verify":
            gpg = gnupg.GPG(gnupghome=tempfile.mkdtemp(prefix="carnet-verify-"))
            gpg.encoding = "utf-8"
            try:
                gpg.import_keys(options["cooperative_key"].read_text())
                parsed = directory.verify(
                    gpg,
                    options["file"].read_text(),
                    cooperative_fingerprint=options["cooperative_fingerprint"],
                )
            except (directory.DirectoryError, OSError) as error:
                raise CommandError(f"NOT valid: {error}") from error
            self.stdout.write(
                f"Valid directory version {parsed.version}: {len(parsed.practices)} practices"
            )
        else:
            try:
                count = services.directory_import(
                    options["file"].read_text(),
                    cooperative_key=options["cooperative_key"].read_text(),
                    cooperative_fingerprint=options["cooperative_fingerprint"],
                )
            except (directory.DirectoryError, OSError) as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Directory installed: {count} practices")
