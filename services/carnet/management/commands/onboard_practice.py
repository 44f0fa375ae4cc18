"""carnet onboard_practice: a new member practice and its administrator.

    carnet onboard_practice --slug SLUG --name NAME --admin USERNAME --admin-name "Full Name"
        [--city C] [--postal-code P] [--address A] [--admin-email E] [--plan group|solo]

Prints, as JSON, what the administrator needs for the first login: the address of the
practice, the username and a one-time password (they set their second factor at that
first login, and should change the password). Refuses a slug or username already taken:
nothing is created then.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from core.accounts.models import Person, Role
from core.practices.models import CooperativeMembership, Practice
from core.practices.services import onboarding


class Command(BaseCommand):
    help = "Create a member practice and its administrator; print the first-login details."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--city", default="")
        parser.add_argument("--postal-code", default="")
        parser.add_argument("--address", default="")
        parser.add_argument(
            "--plan",
            default=CooperativeMembership.Plan.GROUP,
            choices=[choice.value for choice in CooperativeMembership.Plan],
        )
        parser.add_argument("--admin", required=True, help="the administrator's username")
        parser.add_argument("--admin-name", required=True)
        parser.add_argument("--admin-email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["slug"].strip()
        username = options["admin"].strip().lower()
        if Practice.objects.filter(slug=slug).exists():
            raise CommandError(
                f"Le cabinet {slug} existe déjà.\nThe practice {slug} already exists."
            )
        if Person.objects.filter(username=username).exists():
            raise CommandError(
                f"L'identifiant {username} est déjà pris.\nThe username {username} is taken."
            )
        password = secrets.token_urlsafe(12)
        try:
            onboarded = onboarding.practice_onboard(
                practice=onboarding.NewPractice(
                    slug=slug,
                    name=options["name"],
                    city=options["city"],
                    postal_code=options["postal_code"],
                    address=options["address"],
                    plan=options["plan"],
                ),
                people=[
                    onboarding.NewPerson(
                        username=username,
                        full_name=options["admin_name"],
                        email=options["admin_email"],
                        roles=(Role.PRACTICE_ADMIN,),
                    )
                ],
                first_password=password,
            )
        except (ValidationError, IntegrityError) as error:
            raise CommandError(
                f"Rien n'a été créé : {error}\nNothing was created: {error}"
            ) from error
        practice = onboarded.practice
        self.stdout.write(
            json.dumps(
                {
                    "practice": {"slug": practice.slug, "name": practice.name},
                    "path": f"/p/{practice.slug}/",
                    "admin": {
                        "username": username,
                        "name": options["admin_name"],
                        "one_time_password": password,
                    },
                    "first_login": "Log in with this password, set up the second factor"
                    " (an authenticator app) as asked, then change the password under"
                    " My account (/profil/).",
                },
                ensure_ascii=False,
                indent=1,
            )
        )
