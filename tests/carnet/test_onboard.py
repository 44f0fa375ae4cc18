"""carnet onboard_practice: a member practice and its administrator, in one go."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core import tenancy
from core.accounts.models import Membership, Person
from core.accounts.services import login_check_password
from core.practices.models import Practice


@pytest.mark.django_db
def test_onboarding_creates_the_practice_and_an_admin_who_can_log_in() -> None:
    people_before = Person.objects.count()
    out = StringIO()
    call_command(
        "onboard_practice",
        "--slug",
        "cabinet-des-lilas",
        "--name",
        "Cabinet des Lilas",
        "--city",
        "Lyon",
        "--admin",
        "Marie.Admin",
        "--admin-name",
        "Marie Admin",
        stdout=out,
    )
    details = json.loads(out.getvalue())
    assert details["admin"]["username"] == "marie.admin"
    practice = Practice.objects.get(slug="cabinet-des-lilas")
    admin = Person.objects.get(username="marie.admin")
    # Memberships are practice rows: read them inside the new practice (row-level security).
    with tenancy.practice_context(practice.id):
        assert Membership.objects.filter(
            practice=practice, person=admin, role="practice_admin"
        ).exists()
    login = login_check_password(
        username="marie.admin", password=details["admin"]["one_time_password"]
    )
    assert login.person == admin and login.error is None

    # Again: refused, and nothing new is created.
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "onboard_practice",
            "--slug",
            "cabinet-des-lilas",
            "--name",
            "X",
            "--admin",
            "other",
            "--admin-name",
            "Other",
        )
    with pytest.raises(CommandError, match="is taken"):
        call_command(
            "onboard_practice",
            "--slug",
            "cabinet-neuf",
            "--name",
            "X",
            "--admin",
            "marie.admin",
            "--admin-name",
            "Other",
        )
    assert not Practice.objects.filter(slug="cabinet-neuf").exists()
    assert Person.objects.count() == people_before + 1
