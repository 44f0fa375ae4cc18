"""The demo practice: people of every role, about 200 patients with their histories,
printed credentials.

Running it again keeps the data: it only re-prints (and re-writes) the credentials.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from carnet_demo.agenda_demo import demo_agenda_create
from carnet_demo.billing_demo import (
    demo_billing_create,
    demo_home_visit_create,
    demo_practice_settings_create,
)
from carnet_demo.care_time_demo import demo_care_time_create
from carnet_demo.cooperative_demo import demo_application_create, demo_dues_issue
from carnet_demo.lab_demo import demo_lab_create
from carnet_demo.records_demo import (
    demo_histories_create,
    demo_identities,
    demo_safety_patient_create,
)
from core import tenancy
from core.accounts import services as accounts
from core.accounts.models import Person, Role
from core.accounts.selectors import actor_for
from core.practices import services as practices
from core.practices.models import CareTeamMode, Practice
from records import services as records
from records.models import Patient

PRACTICE_SLUG = "msp-des-tilleuls"
PASSWORD = "carnet-demo-2026"  # noqa: S105 - the published demo password


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    roles: tuple[str, ...] = ()
    profession: str = ""
    rpps: str = ""
    am_number: str = ""
    cooperative_admin: bool = False
    node_admin: bool = False


PEOPLE = [
    DemoPerson(
        "claire.martin",
        "Dr Claire Martin",
        (Role.PRACTITIONER, Role.PRACTICE_ADMIN),
        "gp",
        "10003456786",
        "691234561",
    ),
    DemoPerson(
        "karim.benali",
        "Dr Karim Benali",
        (Role.PRACTITIONER,),
        "gp",
        "10004567896",
        "691987655",
    ),
    DemoPerson("lucie.garnier", "Lucie Garnier", (Role.PRACTITIONER,), "nurse", "10005678908"),
    DemoPerson("hugo.lambert", "Hugo Lambert", (Role.PRACTITIONER,), "physio"),
    DemoPerson("sophie.durand", "Sophie Durand", (Role.SECRETARY,)),
    DemoPerson("marc.lefort", "Marc Lefort", cooperative_admin=True),
    DemoPerson("nadia.roux", "Nadia Roux", node_admin=True),
]


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.json"


def _ensure_device(person: Person) -> str:
    """A confirmed TOTP device; return its base32 secret."""
    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name="Carnet (demo)", confirmed=True)
    return base64.b32encode(device.bin_key).decode()


@transaction.atomic
def load(patient_count: int = 200) -> dict[str, Any]:
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first()
    created = practice is None
    if practice is None:
        practice = practices.practice_create(
            slug=PRACTICE_SLUG,
            name="Maison de santé des Tilleuls",
            address="12 rue des Tilleuls",
            postal_code="69100",
            city="Villeurbanne",
            # A maison de santé: every clinician is in every patient's care team, the usual
            # case (the notice for the waiting room is on the care-team page).
            care_team_mode=CareTeamMode.PRACTICE,
        )
    if not practice.phone:
        # Printed on the ordonnance, with the address.
        Practice.objects.filter(pk=practice.pk).update(phone="04 78 85 12 30")
        practice.refresh_from_db()
    with tenancy.practice_context(practice.pk):
        accounts_out = []
        for spec in PEOPLE:
            person = Person.objects.filter(username=spec.username).first()
            if person is None:
                person = accounts.person_create(
                    username=spec.username,
                    full_name=spec.full_name,
                    password=PASSWORD,
                    practice=practice if spec.roles else None,
                    roles=spec.roles,
                    profession=spec.profession,
                    rpps=spec.rpps,
                    am_number=spec.am_number,
                    is_cooperative_admin=spec.cooperative_admin,
                    is_node_admin=spec.node_admin,
                    check_password=False,
                )
            accounts_out.append(
                {
                    "username": spec.username,
                    "password": PASSWORD,
                    "name": spec.full_name,
                    "roles": list(spec.roles)
                    + (["cooperative_admin"] if spec.cooperative_admin else [])
                    + (["node_admin"] if spec.node_admin else []),
                    "totp_secret": _ensure_device(person),
                }
            )
        gps = list(
            Person.objects.filter(username__in=["claire.martin", "karim.benali"]).order_by(
                "username"
            )
        )
        identities = demo_identities(patient_count)
        if created or not Patient.objects.exists():
            secretary = actor_for(Person.objects.get(username="sophie.durand"), practice.pk)
            for index, identity in enumerate(identities):
                records.patient_create(
                    actor=secretary,
                    gp_id=gps[index % 2].pk,
                    confirm_not_duplicate=True,
                    **identity,  # type: ignore[arg-type]
                )
        # Each demo patient without a consultation gets a history written by their GP;
        # on a re-run they all have one, so nothing is added twice.
        demo_histories_create(
            actors={gp.pk: actor_for(gp, practice.pk) for gp in gps},
            nirs=[str(identity["nir"]) for identity in identities],
        )
        # Odile Vernet: a penicillin allergy and warfarin, to try the safety checks.
        demo_safety_patient_create(actor=actor_for(gps[0], practice.pk), gp_id=gps[0].pk)
        secretary = actor_for(Person.objects.get(username="sophie.durand"), practice.pk)
        demo_billing_create(secretary=secretary)
        # Dr Martin, the administrator, set the practice's price of a sports certificate
        # (not reimbursed) and calibrated the desk printer for the feuille de soins.
        demo_practice_settings_create(admin=actor_for(gps[0], practice.pk))
        # Lucie Garnier, the nurse, billed a home visit (AMI 4, IFD, 12 km of IK).
        demo_home_visit_create(
            nurse=actor_for(Person.objects.get(username="lucie.garnier"), practice.pk)
        )
        demo_agenda_create(
            desk=secretary,
            people={
                p.username: p
                for p in Person.objects.filter(username__in=[s.username for s in PEOPLE])
            },
            patient_ids=list(Patient.objects.order_by("pk").values_list("pk", flat=True)[:200]),
            address={
                "address": practice.address,
                "postal_code": practice.postal_code,
                "city": practice.city,
                "phone": practice.phone,
            },
        )
        # Results waiting for Dr Martin (her patients are the even ones), one for the desk
        # to match, one refused.
        claire = actor_for(gps[0], practice.pk)
        demo_lab_create(
            desk=secretary,
            gp=claire,
            identities=identities[0:10:2],
        )
        # A month of documentation time for Dr Martin, for the report.
        demo_care_time_create(
            actor=claire,
            patient_ids=list(Patient.objects.order_by("pk").values_list("pk", flat=True)[:200]),
        )
        token = _api_token(practice, Person.objects.get(username="claire.martin"))
        patient_total = Patient.objects.count()
    # A practice asking to join the cooperative, for Marc Lefort to review (the
    # applications precede any practice: outside the demo practice's context).
    demo_application_create()
    # Last month's dues of the members, for the membership and the cooperative's pages.
    demo_dues_issue()
    return {
        "practice": {"slug": practice.slug, "name": practice.name},
        "accounts": accounts_out,
        "api_token": {"username": "claire.martin", "token": token},
        "patients": patient_total,
    }


def _api_token(practice: Practice, person: Person) -> str:
    """Reuse the token of the previous run if it is still valid, else make one."""
    path = credentials_path()
    if path.exists():
        try:
            previous = json.loads(path.read_text())["api_token"]["token"]
        except (ValueError, KeyError):
            previous = ""
        if previous and accounts.api_token_authenticate(previous):
            return str(previous)
    _token, plaintext = accounts.api_token_create(person=person, practice=practice, name="demo")
    return plaintext


def write_credentials(data: dict[str, Any]) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    return path
