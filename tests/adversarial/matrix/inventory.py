"""Every endpoint of Carnet, found in the URL configuration and the OpenAPI schema, and
the one table that says what each touches.

``url_routes()`` walks ``django.urls.get_resolver()``; ``openapi_operations()`` asks
drf-spectacular for the schema served at /api/schema/. A route or an operation missing
from ``ENDPOINTS`` and from ``PUBLIC`` fails ``test_every_endpoint_is_classified``, so a
new endpoint cannot slip past the matrix.

An ``Endpoint`` says which patient data a request reaches (``need``: a rule of
``rules.py``), which object fills its path (``entry``), and what a valid request sends
(``body``). ``audit`` names the event a legitimate call must leave (audit completeness).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# --- the inventory ----------------------------------------------------------------------


def url_routes(urlconf: Any = None) -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern as its full route ("api/v1/patients/<int:patient_id>/")."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    yield from walk(get_resolver(urlconf).url_patterns, "")


HANDLERS = ("get", "post", "put", "patch", "delete")


def view_methods(pattern: URLPattern) -> list[str]:
    """The HTTP methods a class-based (DRF) view implements; [] for a function view."""
    cls = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    if cls is None:
        return []
    return [m.upper() for m in HANDLERS if hasattr(cls, m)]


def openapi_route(path: str) -> str:
    """/api/v1/patients/{patient_id}/ -> api/v1/patients/{patient_id}/"""
    return path.lstrip("/")


def route_as_openapi(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def openapi_operations() -> list[tuple[str, str]]:
    """(route in OpenAPI form, METHOD) for every operation of the served schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (openapi_route(path), method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method.upper() in {m.upper() for m in HANDLERS}
    ]


# --- the classification -----------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    route: str
    method: str
    need: str  # a rule name in rules.NEEDS
    channel: str  # page | api | fhir
    entry: str = ""  # the entry kind that fills entry ids ("problem", "prescription"...)
    body: Callable[[Any, Any], Any] | None = None  # (ctx) -> JSON body, or FORM
    multipart: bool = False
    query: str = ""  # query string, formatted with the path values
    audit: tuple[str, ...] = ()  # what a legitimate call leaves (actions)
    audit_patient: bool = True  # the event names the patient
    pdf: bool = False
    notes: str = ""
    touches_patient: bool = field(default=True)


FORM = "form"  # a page POST sent empty: the gate runs before the form, which then says 400


def _today(ctx: Any) -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


P = "p/<slug:practice_slug>/"
PAT = P + "patients/<int:patient_id>/"
API = "api/v1/"
APAT = API + "patients/<int:patient_id>/"

# Entry kinds of the REST API, and the entry kind of the world that serves them.
API_KINDS = {
    "encounters": ("encounter", {"reason": "motif"}),
    "problems": ("problem", {"label": "HTA"}),
    "allergies": ("allergy", {"substance": "latex"}),
    "immunizations": ("immunization", {"vaccinated_on": "2024-02-01", "vaccine": "DTP"}),
    "observations": ("observation", {"code": "8867-4", "label": "FC", "value_text": "60"}),
}
API_KIND_ACTION = {
    "encounters": "encounter",
    "problems": "problem",
    "allergies": "allergy",
    "immunizations": "immunization",
    "observations": "observation",
}

# FHIR types: (entry kind of the world, search parameter)
FHIR_CLINICAL = {
    "Encounter": "encounter",
    "Condition": "problem",
    "AllergyIntolerance": "allergy",
    "MedicationRequest": "prescription_item",
    "Immunization": "immunization",
    "Observation": "observation",
    "DocumentReference": "document",
}

FHIR = "fhir/r4/"


def _share_body(ctx: Any) -> dict[str, Any]:
    return {"node": ctx.node, "practice": ctx.share_to, "categories": ["allergies"]}


def _invoice_body(ctx: Any) -> dict[str, Any]:
    return {
        "practitioner": ctx.gp_of_request_practice,
        "service_date": _today(ctx),
        "lines": [{"code": "G"}],
    }


def _cover_body(ctx: Any) -> dict[str, Any]:
    return {
        "regime": "01",
        "caisse_code": "751",
        "caisse_name": "CPAM de Paris",
        "rights_from": _today(ctx),
    }


def _tariff_body(ctx: Any) -> dict[str, Any]:
    """A tariff of a code nothing bills (sent again, it corrects the same version)."""
    return {
        "nomenclature": "NGAP",
        "code": "ZZMATRIX",
        "label": "matrix",
        "valid_from": _today(ctx),
        "amount": "1.00",
    }


def _tariff_import_body(ctx: Any) -> dict[str, Any]:
    return {
        "csv": "nomenclature,code,label,valid_from,amount,amo_rate\n"
        f"NGAP,ZZMATRIX,matrix,{_today(ctx)},1.00,70\n",
        "apply": False,
    }


def _payment_body(ctx: Any) -> dict[str, Any]:
    return {"method": "cash", "amount": "1.00", "idempotency_key": ctx.unique}


def _document_body(ctx: Any) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.adversarial.matrix.world import PDF_BYTES

    return {
        "file": SimpleUploadedFile("r.pdf", PDF_BYTES, content_type="application/pdf"),
        "title": "compte rendu",
        "kind": "report",
        "document_date": "2024-05-06",
    }


AG = API + "agenda/"
APPOINTMENT = AG + "appointments/<int:appointment_id>/"


def _monday_at(hour: int) -> str:
    from tests.adversarial.matrix.world import next_monday_at

    return next_monday_at(hour).isoformat()


def _tuesday_at(hour: int) -> str:
    from datetime import timedelta

    from tests.adversarial.matrix.world import next_monday_at

    return (next_monday_at(hour) + timedelta(days=1)).isoformat()


def _booking_body(ctx: Any, **more: Any) -> dict[str, Any]:
    """With the practitioner whose agenda the matrix names (Bob at A, Charlie at B): a
    free time of his, next Tuesday."""
    agenda = ctx.world.agenda[ctx.request_practice.pk]
    return {
        "practitioner": agenda.practitioner_id,
        "type": agenda.type_id,
        "starts_at": _tuesday_at(9),
        "channel": "phone",
        **more,
    }


def _agenda_endpoints(add: Callable[[Endpoint], None]) -> None:
    """The agenda (§8): an appointment is administrative data of its patient, read by
    whoever may read the patient's identity (practice administrators included, reason
    hidden unless they may read the consultation), booked and changed by the staff;
    calling a patient in starts the consultation (a clinical write). The frame (types,
    sites, free slots, hours) is the practice's; schedules are the desk's or the
    practitioner's own; a calendar feed is the practitioner's own."""
    for route in ("types/", "sites/", "practitioners/", "absences/"):
        add(Endpoint(AG + route, "GET", "member", "api", touches_patient=False))
    add(
        Endpoint(
            AG + "slots/",
            "GET",
            "member",
            "api",
            query="practitioner={practitioner_id}&type={type_id}",
            touches_patient=False,
        )
    )
    lists = "reads every patient of the list it may (a hidden busy time for the others)"
    add(
        Endpoint(
            AG + "practitioners/<int:practitioner_id>/appointments/",
            "GET",
            "member",
            "api",
            query="start={monday}&end={monday}",
            audit=("appointment.read",),
            touches_patient=False,
            notes="Bob's Monday (A): Paul, and Eve who excluded Alice and Sam; " + lists,
        )
    )
    add(
        Endpoint(
            AG + "waiting-room/",
            "GET",
            "member",
            "api",
            audit=("appointment.read",),
            touches_patient=False,
            notes="every patient's walk-in of the world waits; " + lists,
        )
    )
    hours = AG + "practitioners/<int:practitioner_id>/hours/"
    add(Endpoint(hours, "GET", "member", "api", touches_patient=False))
    add(
        Endpoint(
            hours,
            "PUT",
            "schedule",
            "api",
            body=lambda ctx: {
                "spans": [
                    {
                        "weekday": 0,
                        "site": ctx.world.agenda[ctx.request_practice.pk].site_id,
                        "starts": "08:00",
                        "ends": "12:00",
                    }
                ]
            },
            audit=("agenda.hours_set",),
            audit_patient=False,
            touches_patient=False,
        )
    )
    add(
        Endpoint(
            AG + "absences/",
            "POST",
            "schedule",
            "api",
            body=lambda ctx: {
                "practitioner": ctx.world.agenda[ctx.request_practice.pk].practitioner_id,
                "starts_at": _monday_at(14),
                "ends_at": _monday_at(18),
                "label": "formation",
            },
            audit=("agenda.absence_added",),
            audit_patient=False,
            touches_patient=False,
        )
    )
    add(
        Endpoint(
            AG + "absences/<int:absence_id>/",
            "DELETE",
            "schedule",
            "api",
            audit=("agenda.absence_removed",),
            audit_patient=False,
            touches_patient=False,
        )
    )
    add(
        Endpoint(
            AG + "holidays/",
            "POST",
            "desk-role",
            "api",
            body=lambda ctx: {"year": 2099},
            audit=("agenda.holidays_added",),
            audit_patient=False,
            touches_patient=False,
        )
    )
    add(Endpoint(AG + "feeds/", "GET", "practitioner-role", "api", touches_patient=False))
    add(
        Endpoint(
            AG + "feeds/",
            "POST",
            "practitioner-role",
            "api",
            body=lambda ctx: {"with_names": True},
            audit=("agenda.feed_created",),
            audit_patient=False,
            touches_patient=False,
        )
    )
    add(
        Endpoint(
            AG + "feeds/<int:feed_id>/",
            "DELETE",
            "own-feed",
            "api",
            audit=("agenda.feed_revoked",),
            audit_patient=False,
            touches_patient=False,
            notes="the feed of the practice's GP (Alice at A, Charlie at B)",
        )
    )
    add(
        Endpoint(
            AG + "appointments/",
            "POST",
            "identity.write.practice",
            "api",
            body=lambda ctx: _booking_body(ctx, caller_name="Appelant Inconnu"),
            audit=("appointment.book",),
            audit_patient=False,
            touches_patient=False,
            notes="a caller booked by name: no patient yet",
        )
    )
    apat = AG + "patients/<int:patient_id>/"
    add(
        Endpoint(
            apat + "appointments/", "GET", "admin.read.admin", "api", audit=("appointment.read",)
        )
    )
    add(
        Endpoint(
            apat + "appointments/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: _booking_body(ctx),
            audit=("appointment.book",),
        )
    )
    add(
        Endpoint(
            apat + "series/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: _booking_body(ctx, every_weeks=1, count=2),
            audit=("appointment.book",),
        )
    )
    add(
        Endpoint(
            apat + "walk-in/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: {"type": ctx.world.agenda[ctx.request_practice.pk].type_id},
            audit=("appointment.walk_in",),
        )
    )
    add(
        Endpoint(
            APPOINTMENT,
            "GET",
            "admin.read.admin",
            "api",
            entry="appointment",
            audit=("appointment.read",),
            notes="Paul's appointment with Alice has a clinical reason (a marker)",
        )
    )
    for action, need, entry, body, event in (
        ("move/", "admin.write", "appointment", {"starts_at": "16"}, "appointment.move"),
        ("cancel/", "admin.write", "appointment", {"reason": "empêché"}, "appointment.cancel"),
        ("no-show/", "admin.write", "past_appointment", None, "appointment.no_show"),
        ("check-in/", "admin.write", "appointment", {}, "appointment.arrived"),
        ("start/", "clinical.write", "walk_in", None, "appointment.start"),
        ("finish/", "admin.write", "appointment", None, "appointment.done"),
    ):
        add(
            Endpoint(
                APPOINTMENT + action,
                "POST",
                need,
                "api",
                entry=entry,
                body=(lambda ctx: {"starts_at": _monday_at(16)})
                if body and "starts_at" in body
                else (lambda ctx, body=body: dict(body) if body is not None else {}),
                audit=(event,),
            )
        )


def _endpoints() -> list[Endpoint]:
    e: list[Endpoint] = []
    add = e.append

    # --- pages: accounts and practice ---------------------------------------------------
    add(Endpoint("", "GET", "authenticated", "page", touches_patient=False))
    add(Endpoint(P, "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "jetons/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "jetons/", "POST", "member", "page", body=FORM, touches_patient=False))
    add(
        Endpoint(
            P + "jetons/<str:key_id>/revoquer/", "POST", "member", "page", touches_patient=False
        )
    )
    # the practice's care-team setting: every member sees it and prints the notice, only a
    # practice administrator changes it (policy: decide_practice)
    add(Endpoint(P + "equipe-de-soins/", "GET", "member", "page", touches_patient=False))
    add(
        Endpoint(
            P + "equipe-de-soins/",
            "POST",
            "admin-role",
            "page",
            body=lambda ctx: {"mode": ctx.other_care_team_mode, "confirmed": "on"},
            multipart=True,  # a form, as the browser sends it
            audit=("practice.care_team_mode_changed",),
            audit_patient=False,
            touches_patient=False,
            notes="switches the practice to the other mode (rolled back after the request)",
        )
    )
    add(
        Endpoint(
            P + "equipe-de-soins/affiche.pdf",
            "GET",
            "member",
            "page",
            audit=("practice.care_team_notice.print",),
            audit_patient=False,
            pdf=True,
            touches_patient=False,
        )
    )
    # the patients' rights on paper: any staff of the practice prints the poster and the
    # leaflet (policy: PRINT_PATIENT_RIGHTS); they name the practice, no patient
    add(Endpoint(P + "droits/", "GET", "member", "page", touches_patient=False))
    for route, query in (("droits/affiche.pdf", "lang=en&size=A3"), ("droits/depliant.pdf", "")):
        add(
            Endpoint(
                P + route,
                "GET",
                "member",
                "page",
                query=query,
                audit=("practice.patient_rights.print",),
                audit_patient=False,
                pdf=True,
                touches_patient=False,
            )
        )

    add(Endpoint("profil/", "GET", "authenticated", "page", touches_patient=False))
    add(Endpoint("profil/", "POST", "authenticated", "page", body=FORM, touches_patient=False))

    # --- the cooperative's administration: no practice, no patient (decide_cooperative) -
    for route, channel, action, pdf in (
        ("cooperative/", "page", "cooperative.members.read", False),
        ("cooperative/annuaire/", "page", "directory.read", False),
        ("cooperative/adherents.pdf", "page", "cooperative.members.print", True),
        ("cooperative/assemblee.pdf", "page", "cooperative.assembly.print", True),
        (API + "cooperative/members/", "api", "cooperative.members.read", False),
    ):
        add(
            Endpoint(
                route,
                "GET",
                "cooperative-admin",
                channel,
                audit=(action,),
                audit_patient=False,
                pdf=pdf,
                touches_patient=False,
            )
        )

    # --- the node's own state (decide_node): node administrators only, no practice -----
    # No role of the matrix is a node administrator: every one is refused (audited). The
    # admin's own read (node.status.read) is shown by tests/core/test_node_status.py.
    add(
        Endpoint(
            "healthz/node",
            "GET",
            "node-admin",
            "page",
            audit_patient=False,
            touches_patient=False,
        )
    )

    # installing the signed directory: an empty form is 400 once past the gate
    add(
        Endpoint(
            "cooperative/annuaire/",
            "POST",
            "cooperative-admin",
            "page",
            body=FORM,
            audit=("directory.read",),
            audit_patient=False,
            touches_patient=False,
        )
    )

    # applications to join, a member's dues and their payments (decide_cooperative:
    # REVIEW_APPLICATIONS, MANAGE_DUES): the cooperative's administrators only
    apps = "cooperative/demandes/"
    app = apps + "<int:application_id>/"
    dues = "cooperative/adherents/<int:practice_id>/"
    for route, method, body, action in (
        (apps, "GET", None, "cooperative.applications.read"),
        (app, "GET", None, "cooperative.application.read"),
        # provisions a practice (rolled back after the request)
        (app + "approuver/", "POST", None, "cooperative.application.approve"),
        # a refusal needs its reason: 400 once past the gate
        (app + "refuser/", "POST", FORM, ""),
        # the invitation prints only from the session that approved: else back to the page
        (app + "invitation.pdf", "GET", None, ""),
        # a new link for the first administrator: the world's application is pending,
        # so it has none yet (400 once past the gate)
        (app + "nouvelle-invitation/", "POST", FORM, ""),
        ("cooperative/cotisations/", "GET", None, "cooperative.dues.read"),
        # what a month's dues would be (nothing issued); confirming with no month is 400
        ("cooperative/cotisations/emettre/", "GET", None, ""),
        ("cooperative/cotisations/emettre/", "POST", FORM, ""),
        (dues, "GET", None, "cooperative.member_dues.read"),
        (dues + "paiement/", "POST", FORM, ""),
        (dues + "parts/", "POST", FORM, ""),
    ):
        add(
            Endpoint(
                route,
                method,
                "cooperative-admin",
                "page",
                body=body,
                audit=(action,) if action else (),
                audit_patient=False,
                touches_patient=False,
            )
        )
    # the cooperative's FEC of a month (a file, audited on the node's chain)
    add(
        Endpoint(
            "cooperative/cotisations/fec/",
            "GET",
            "cooperative-admin",
            "page",
            query="mois=2026-11",
            audit=("cooperative.export_fec",),
            audit_patient=False,
            touches_patient=False,
        )
    )
    # applying to join: public, for anyone (an anonymous applicant first); an empty form
    # is 400 and stores nothing
    add(Endpoint("adherer/", "GET", "public", "page", touches_patient=False))
    add(Endpoint("adherer/", "POST", "public", "page", body=FORM, touches_patient=False))
    add(Endpoint("adherer/envoyee/", "GET", "public", "page", touches_patient=False))
    # the practice's membership: plan, shares, dues, payments (VIEW_MEMBERSHIP)
    add(
        Endpoint(
            P + "adhesion/",
            "GET",
            "admin-role",
            "page",
            audit=("cooperative.membership.read",),
            audit_patient=False,
            touches_patient=False,
        )
    )

    # leaving the cooperative (LEAVE_COOPERATIVE): the page, the encrypted export and the
    # request sent empty (400 once past the gate: nothing exported, nothing asked), and
    # staying (nothing asked: the page says so)
    leave = P + "adhesion/depart/"
    for route, method, body in (
        ("", "GET", None),
        ("export/", "POST", FORM),
        ("demande/", "POST", FORM),
        ("rester/", "POST", None),
    ):
        add(Endpoint(leave + route, method, "admin-role", "page", body=body, touches_patient=False))

    # --- pages: the practice's team (its administrators only) --------------------------
    team = P + "equipe/"
    for route, method, body in (
        ("", "GET", None),
        ("inviter/", "GET", None),
        ("inviter/", "POST", FORM),
        ("invitations/<int:invitation_id>/", "GET", None),
        ("invitations/<int:invitation_id>.pdf", "GET", None),
        ("<int:person_id>/", "GET", None),
        ("<int:person_id>/roles/", "POST", FORM),
        ("<int:person_id>/desactiver/", "POST", FORM),
        ("<int:person_id>/second-facteur/", "POST", FORM),
        ("<int:person_id>/deverrouiller/", "POST", None),
        # an enrolled person gets no new link: 400 once past the gate
        ("<int:person_id>/nouvelle-invitation/", "POST", FORM),
    ):
        add(Endpoint(team + route, method, "admin-role", "page", body=body, touches_patient=False))

    # --- pages: records -----------------------------------------------------------------
    add(
        Endpoint(
            P + "patients/",
            "GET",
            "member",
            "page",
            audit=("patient.search",),
            audit_patient=False,
            notes="lists the practice's patients: one patient.search event",
        )
    )
    add(Endpoint(P + "patients/nouveau/", "GET", "member", "page", touches_patient=False))
    add(
        Endpoint(
            P + "patients/nouveau/", "POST", "member", "page", body=FORM, touches_patient=False
        )
    )
    add(Endpoint(PAT, "GET", "identity.read", "page", audit=("patient.read",)))
    # Identity after registration: correcting it and the death are identity writes, the
    # GP of record an administrative one; a merge moves entries, so it also needs the
    # right to write the clinical record (the service asks both, on both records).
    for route in ("identite/", "deces/"):
        add(Endpoint(PAT + route, "GET", "identity.write", "page", audit=("patient.write",)))
        add(Endpoint(PAT + route, "POST", "identity.write", "page", body=FORM))
    add(Endpoint(PAT + "medecin-traitant/", "GET", "admin.write", "page", audit=("patient.write",)))
    add(Endpoint(PAT + "medecin-traitant/", "POST", "admin.write", "page", body=FORM))
    add(Endpoint(PAT + "fusionner/", "GET", "clinical.write", "page", audit=("patient.write",)))
    add(Endpoint(PAT + "fusionner/", "POST", "clinical.write", "page", body=FORM))
    for route in ("consultation/", "ordonnance/", "ajouter/<str:entry_type>/"):
        add(Endpoint(PAT + route, "GET", "clinical.write", "page", audit=("patient.write",)))
        add(Endpoint(PAT + route, "POST", "clinical.write", "page", body=FORM))
    correct = PAT + "<str:entry_type>/<int:entry_id>/corriger/"
    add(Endpoint(correct, "GET", "entry.write", "page", entry="problem", audit=("patient.write",)))
    add(Endpoint(correct, "POST", "entry.write", "page", entry="problem", body=FORM))
    add(
        Endpoint(
            PAT + "ordonnance/<int:prescription_id>.pdf",
            "GET",
            "entry.print",
            "page",
            entry="prescription",
            audit=("prescription.print",),
            pdf=True,
        )
    )
    add(
        Endpoint(
            PAT + "dossier.pdf",
            "GET",
            "clinical.print.request",
            "page",
            audit=("patient.print",),
            pdf=True,
        )
    )
    add(
        Endpoint(
            PAT + "acces.pdf",
            "GET",
            "admin.print.request",
            "page",
            audit=("access_report.print",),
            pdf=True,
        )
    )
    add(Endpoint(PAT + "vue-patient/", "POST", "clinical.read", "page", audit=("patient.read",)))
    add(Endpoint(P + "vue-patient/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "vue-patient/sortie/", "POST", "member", "page", touches_patient=False))
    add(Endpoint(PAT + "choix/", "GET", "admin.write", "page", audit=("patient.read",)))
    add(Endpoint(PAT + "choix/", "POST", "admin.write", "page", body=FORM))
    add(
        Endpoint(
            PAT + "choix/<int:restriction_id>/lever/",
            "POST",
            "admin.write.lift",
            "page",
            audit=("patient_choice.exclusion_lifted",),
        )
    )
    add(
        Endpoint(
            PAT + "choix/autorisation/<int:grant_id>/retirer/",
            "POST",
            "admin.write",
            "page",
            audit=("patient_choice.label_revoked",),
        )
    )
    # the patient's care team: administrative data, read and changed by the staff
    add(Endpoint(PAT + "equipe/", "GET", "admin.read.admin", "page", audit=("patient.read",)))
    for route in ("equipe/ajouter/", "equipe/retirer/"):
        add(
            Endpoint(
                PAT + route, "POST", "admin.write", "page", body=FORM, audit=("patient.write",)
            )
        )
    add(Endpoint(PAT + "urgence/", "GET", "identity.read", "page", audit=("patient.read",)))
    add(Endpoint(PAT + "urgence/", "POST", "identity.read", "page", body=FORM))
    # the letter telling the patient about an emergency access: printed (an identity
    # read), then marked handed over or posted by the desk
    add(
        Endpoint(
            PAT + "urgence/<int:access_id>/lettre.pdf",
            "GET",
            "identity.read",
            "page",
            pdf=True,
            audit=("patient.read",),
        )
    )
    add(
        Endpoint(
            PAT + "urgence/<int:access_id>/lettre/remise/",
            "POST",
            "desk-letter",
            "page",
            body=lambda ctx: {"how": "handed"},
            multipart=True,  # a page's form
            audit=("break_glass.letter_handed",),
        )
    )
    add(Endpoint(P + "acces-urgence/", "GET", "admin-role", "page", touches_patient=False))
    add(
        Endpoint(
            P + "acces-urgence/",
            "POST",
            "admin-role",
            "page",
            body=lambda ctx: {"grant": ctx.world.expired_grant_id, "note": "vu"},
            touches_patient=False,
            notes="reviews Bob's expired emergency access to Bruno",
        )
    )
    add(
        Endpoint(
            PAT + "documents/ajouter/", "GET", "clinical.write", "page", audit=("patient.write",)
        )
    )
    add(Endpoint(PAT + "documents/ajouter/", "POST", "clinical.write", "page", body=FORM))
    add(Endpoint(PAT + "courrier/", "GET", "clinical.write", "page", audit=("patient.write",)))
    add(Endpoint(PAT + "courrier/", "POST", "clinical.write", "page", body=FORM))
    add(
        Endpoint(
            PAT + "documents/<int:document_id>/",
            "GET",
            "entry.read",
            "page",
            entry="document",
            audit=("document.read",),
        )
    )
    add(Endpoint(P + "medicaments/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "allergenes/", "GET", "member", "page", touches_patient=False))
    # The safety checks of the lines being written: the right to prescribe, and a read
    # of the allergies and the current treatment.
    add(
        Endpoint(
            PAT + "ordonnance/verifier/",
            "GET",
            "clinical.write",
            "page",
            query="items-0-drug_label=Parac%C3%A9tamol",
            audit=("patient.write",),
        )
    )
    # the coded lists searched while typing: reference data, no patient
    add(Endpoint(P + "cim10/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "vaccins/", "GET", "member", "page", touches_patient=False))
    # certificates and letters from models: written like any clinical entry
    add(Endpoint(PAT + "certificats/", "GET", "clinical.write", "page", audit=("patient.write",)))
    add(
        Endpoint(
            PAT + "certificat/",
            "GET",
            "clinical.write",
            "page",
            query="modele=medical",
            audit=("patient.write",),
        )
    )
    add(
        Endpoint(
            PAT + "certificat/", "POST", "clinical.write", "page", query="modele=medical", body=FORM
        )
    )

    # --- pages: billing -----------------------------------------------------------------
    add(
        Endpoint(PAT + "facturation/", "GET", "admin.read.billing", "page", audit=("patient.read",))
    )
    add(
        Endpoint(
            PAT + "facturation/nouvelle/",
            "GET",
            "admin.read.billing",
            "page",
            audit=("patient.read",),
        )
    )
    add(Endpoint(PAT + "facturation/nouvelle/", "POST", "admin.read.billing", "page", body=FORM))
    # The patient's insurance cover: read for billing, recorded as an administrative write.
    add(Endpoint(PAT + "couverture/", "GET", "admin.read.billing", "page", audit=("patient.read",)))
    add(Endpoint(PAT + "couverture/", "POST", "admin.write", "page", body=FORM))
    inv = P + "factures/<int:invoice_id>/"
    add(Endpoint(inv, "GET", "admin.read.billing", "page", audit=("patient.read",)))
    add(Endpoint(inv, "POST", "admin.read.billing", "page", body=FORM))
    add(
        Endpoint(
            inv + "avoir/", "POST", "admin.read.billing", "page", body=FORM, audit=("patient.read",)
        )
    )
    add(
        Endpoint(
            inv + "feuille-de-soins.pdf",
            "GET",
            "admin.read.billing",
            "page",
            audit=("care_sheet.print",),
            pdf=True,
        )
    )
    add(
        Endpoint(
            inv + "recu.pdf",
            "GET",
            "admin.read.billing",
            "page",
            audit=("receipt.print",),
            pdf=True,
        )
    )
    add(Endpoint(P + "caisse/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "caisse/cloturer/", "GET", "member", "page", touches_patient=False))
    # Posted empty, the closing is not confirmed: the page says so (400), nothing closes.
    add(
        Endpoint(P + "caisse/cloturer/", "POST", "member", "page", body=FORM, touches_patient=False)
    )
    for method in ("GET", "POST"):
        add(
            Endpoint(
                P + "caisse/compte-bancaire/<int:person_id>/",
                method,
                "billing-details",
                "page",
                body=FORM if method == "POST" else None,
                touches_patient=False,
                notes="the GP's own account (Alice at A, Charlie at B), or an administrator",
            )
        )
    add(
        Endpoint(
            P + "caisse/<str:document>.pdf",
            "GET",
            "member",
            "page",
            pdf=True,
            touches_patient=False,
        )
    )
    add(Endpoint(P + "rapport/saisie/", "GET", "report-role", "page", touches_patient=False))
    # Documentation time: one's own figures (a colleague's only when shared, see
    # tests/billing/test_care_time_report.py); the practice's totals for administrators.
    add(Endpoint(P + "rapport/temps/", "GET", "practitioner-role", "page", touches_patient=False))
    add(
        Endpoint(
            P + "rapport/temps/partage/",
            "POST",
            "practitioner-role",
            "page",
            body=FORM,
            touches_patient=False,
        )
    )
    add(Endpoint(P + "rapport/temps/cabinet/", "GET", "admin-role", "page", touches_patient=False))
    add(Endpoint(P + "export/fec/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "export/csv/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "cotisations/", "GET", "admin-role", "page", touches_patient=False))
    # The practice's fee schedule: any member reads it, administrators change it.
    add(Endpoint(P + "tarifs/", "GET", "member", "page", touches_patient=False))
    for route in ("tarifs/nouveau/", "tarifs/import/"):
        add(Endpoint(P + route, "GET", "admin-role", "page", touches_patient=False))
        add(Endpoint(P + route, "POST", "admin-role", "page", body=FORM, touches_patient=False))
    # Tiers payant: what the insurers owe (each patient named is judged and audited by
    # the page), an insurer's transfer, a rejection noted on an invoice.
    add(Endpoint(P + "tiers-payant/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(P + "tiers-payant/paiement/", "GET", "member", "page", touches_patient=False))
    add(
        Endpoint(
            P + "tiers-payant/paiement/", "POST", "member", "page", body=FORM, touches_patient=False
        )
    )
    add(
        Endpoint(
            inv + "rejet/", "POST", "admin.read.billing", "page", body=FORM, audit=("patient.read",)
        )
    )
    # The printers' corrections for the pre-printed feuille de soins and the test page:
    # who may change the practice's billing details with no practitioner named, i.e. its
    # administrators (MANAGE_BILLING_DETAILS); no patient on them.
    for method in ("GET", "POST"):
        add(
            Endpoint(
                P + "feuilles-de-soins/imprimante/",
                method,
                "admin-role",
                "page",
                body=FORM if method == "POST" else None,
                touches_patient=False,
            )
        )
    add(
        Endpoint(
            P + "feuilles-de-soins/imprimante/essai.pdf",
            "GET",
            "admin-role",
            "page",
            pdf=True,
            touches_patient=False,
        )
    )

    # --- pages: the agenda's desk -------------------------------------------------------
    # The agenda, booking, the waiting room and the paper of a practitioner's day or week
    # are the practice's (each row inside is judged and audited by the selectors: a
    # patient the reader may not see is a busy time, a clinical reason is left out).
    for route, method, body in (
        ("agenda/", "GET", None),
        ("agenda/prendre-rdv/", "GET", None),
        ("agenda/prendre-rdv/", "POST", FORM),
        ("salle-d-attente/", "GET", None),
        ("salle-d-attente/sans-rdv/", "POST", FORM),
    ):
        add(Endpoint(P + route, method, "member", "page", body=body, touches_patient=False))
    for sheet in ("journee", "semaine"):
        add(
            Endpoint(
                P + f"agenda/<int:practitioner_id>/<str:day>/{sheet}.pdf",
                "GET",
                "member",
                "page",
                pdf=True,
                touches_patient=False,
            )
        )
    # One appointment: administrative data of its patient (§5). Reading it is audited
    # appointment.read; each change is judged by the policy before its form is read.
    rdv = P + "rdv/<int:appointment_id>/"
    add(Endpoint(rdv, "GET", "admin.read.admin", "page", audit=("appointment.read",)))
    add(Endpoint(rdv + "annuler/", "GET", "admin.read.admin", "page", audit=("appointment.read",)))
    add(
        Endpoint(
            rdv + "carton.pdf",
            "GET",
            "admin.read.admin",
            "page",
            audit=("appointment.print",),
            pdf=True,
        )
    )
    for route in ("deplacer/", "annuler/"):
        add(
            Endpoint(
                rdv + route, "POST", "admin.write", "page", body=FORM, audit=("appointment.read",)
            )
        )
    add(
        Endpoint(
            rdv + "absent/",
            "POST",
            "admin.write",
            "page",
            body=FORM,
            audit=("appointment.read",),
            notes="booked for tomorrow: 'not started yet', 400 once past the gate",
        )
    )
    add(Endpoint(rdv + "arrivee/", "POST", "admin.write", "page", audit=("appointment.arrived",)))
    # --- pages: sharing -----------------------------------------------------------------
    add(Endpoint(PAT + "consentements/", "GET", "admin.write", "page", audit=("patient.write",)))
    add(Endpoint(PAT + "consentements/", "POST", "admin.write", "page", body=FORM))
    add(
        Endpoint(
            PAT + "consentements/<int:consent_id>/retirer/",
            "POST",
            "admin.write",
            "page",
            audit=("consent.revoke",),
        )
    )
    add(
        Endpoint(
            PAT + "consentements/<int:consent_id>/recu.pdf",
            "GET",
            "admin.write",
            "page",
            audit=("patient.write",),
            pdf=True,
        )
    )
    add(Endpoint(P + "partages/recus/", "GET", "staff-role", "page", touches_patient=False))
    add(Endpoint(P + "partenaires/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(PAT + "partages/", "GET", "share.page", "page", audit=("patient.share",)))
    add(Endpoint(PAT + "partages/", "POST", "share.page", "page", body=FORM))
    add(
        Endpoint(
            P + "partages/recus/<str:message_id>/",
            "GET",
            "practitioner-role",
            "page",
            audit=("share.open",),
            audit_patient=False,
            notes="a share received, not yet matched to a patient of the practice",
        )
    )
    add(
        Endpoint(
            P + "partages/recus/<str:message_id>/accepter/",
            "POST",
            "practitioner-role",
            "page",
            body=FORM,
            audit=("share.open",),  # the form comes back with the share, opened again
            audit_patient=False,
            notes="no record chosen: 400 once past the gate, nothing imported",
        )
    )
    add(
        Endpoint(
            P + "partages/recus/<str:message_id>/refuser/",
            "POST",
            "practitioner-role",
            "page",
            body=FORM,
            audit=("share.open",),  # the form comes back with the share, opened again
            audit_patient=False,
            notes="no reason given: 400 once past the gate, the share unchanged",
        )
    )

    # --- laboratory results (lab/): the list to read is the practitioner's own (another
    # reader sees an empty list), the reception and the matching queue the desk's and the
    # practitioners' (identity only); a report is a clinical read of its patient, its
    # sign-off a clinical write; matching names a file of the practice's queue.
    LAB, LAB_API = P + "resultats/", API + "lab/"
    add(Endpoint(LAB, "GET", "member", "page", touches_patient=False))
    add(Endpoint(LAB + "reception/", "GET", "member", "page", touches_patient=False))
    add(Endpoint(LAB + "reception/", "POST", "member", "page", body=FORM, touches_patient=False))
    add(
        Endpoint(
            LAB + "<int:lab_file_id>/", "GET", "clinical.read", "page", audit=("patient.read",)
        )
    )
    add(Endpoint(LAB + "<int:lab_file_id>/", "POST", "clinical.write", "page", body=FORM))
    for method in ("GET", "POST"):
        add(
            Endpoint(
                LAB + "<int:lab_file_id>/associer/",
                method,
                "member",
                "page",
                entry="lab_to_match",
                body=FORM if method == "POST" else None,
                touches_patient=False,
            )
        )
    add(
        Endpoint(
            LAB_API + "files/",
            "POST",
            "member",
            "api",
            body=lambda ctx: {"file": "x"},
            multipart=True,
            audit=("lab_file.receive",),
            audit_patient=False,
            touches_patient=False,
            notes="a file that is no result message: received and refused with its reason",
        )
    )
    add(Endpoint(LAB_API + "queue/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(LAB_API + "to-read/", "GET", "member", "api", touches_patient=False))
    add(
        Endpoint(
            LAB_API + "files/<int:lab_file_id>/",
            "GET",
            "clinical.read",
            "api",
            audit=("patient.read",),
        )
    )
    add(
        Endpoint(
            LAB_API + "files/<int:lab_file_id>/sign-off/",
            "POST",
            "clinical.write",
            "api",
            body=lambda ctx: {"conclusion": "ras"},
            audit=("lab_result.sign_off",),
        )
    )
    add(
        Endpoint(
            LAB_API + "files/<int:lab_file_id>/match/",
            "POST",
            "member",
            "api",
            entry="lab_to_match",
            body=lambda ctx: {"patient": ctx.case.patient.pk},
            touches_patient=False,
            notes="files the waiting results to the scenario's patient, for their GP",
        )
    )

    # --- pages: the agenda's day and its settings ----------------------------------------
    # The practice home (P, above) is the agenda's today page; it and the practitioner's
    # own day list the practice's appointments (one appointment.read per patient shown).
    add(Endpoint(P + "aujourdhui/", "GET", "member", "page", touches_patient=False))
    # "Recevoir" from the day: calling a patient in starts their consultation, the
    # clinical write (a walk-in waiting for whoever is free, so any practitioner may
    # take it). The desk's appointment page and waiting room post here too.
    add(
        Endpoint(
            P + "aujourdhui/<int:appointment_id>/recevoir/",
            "POST",
            "clinical.write",
            "page",
            entry="walk_in",
            audit=("appointment.start",),
        )
    )
    settings = P + "agenda/reglages/"
    add(Endpoint(settings, "GET", "member", "page", touches_patient=False))
    add(Endpoint(settings + "absences/", "GET", "member", "page", touches_patient=False))
    add(
        Endpoint(settings + "absences/", "POST", "member", "page", body=FORM, touches_patient=False)
    )
    for route in ("sites/", "sites/<int:site_id>/", "types/", "types/<int:type_id>/"):
        add(Endpoint(settings + route, "GET", "desk-role", "page", touches_patient=False))
        add(
            Endpoint(
                settings + route, "POST", "desk-role", "page", body=FORM, touches_patient=False
            )
        )
    add(
        Endpoint(
            settings + "absences/<int:absence_id>/supprimer/",
            "POST",
            "schedule",
            "page",
            touches_patient=False,
            notes="the world's practitioner's absence: the empty post asks for a confirmation",
        )
    )
    add(
        Endpoint(
            settings + "jours-feries/",
            "POST",
            "desk-role",
            "page",
            body=FORM,
            touches_patient=False,
        )
    )
    for route in ("horaires/<int:practitioner_id>/", "horaires/<int:practitioner_id>/jour/"):
        add(Endpoint(settings + route, "GET", "schedule", "page", touches_patient=False))
        add(
            Endpoint(settings + route, "POST", "schedule", "page", body=FORM, touches_patient=False)
        )
    add(
        Endpoint(
            settings + "calendrier/", "GET", "practitioner-role", "page", touches_patient=False
        )
    )
    add(
        Endpoint(
            settings + "calendrier/",
            "POST",
            "practitioner-role",
            "page",
            body=FORM,
            touches_patient=False,
            notes="creates a feed without names (rolled back)",
        )
    )
    add(
        Endpoint(
            settings + "calendrier/revoquer/",
            "POST",
            "practitioner-role",
            "page",
            body=FORM,
            touches_patient=False,
        )
    )
    # --- REST API: the practice's team (its administrators only; decide_practice) --------
    staff = API + "staff/"
    member = staff + "<int:person_id>/"
    for route, method, body in (
        (staff, "GET", None),
        (
            staff,
            "POST",
            lambda ctx: {
                "full_name": "Nina Neuve",
                "username": "nina.neuve",
                "roles": ["secretary"],
            },
        ),
        (member, "GET", None),
        (member + "roles/", "PUT", lambda ctx: {"roles": ["practitioner"]}),
        (member + "deactivate/", "POST", lambda ctx: {"reason": "départ"}),
        (member + "reactivate/", "POST", lambda ctx: {"roles": ["practitioner"]}),
        (member + "second-factor-reset/", "POST", lambda ctx: {"admin_code": "000000"}),
        (member + "unlock/", "POST", None),
        (member + "invitation/", "POST", None),
    ):
        add(Endpoint(route, method, "admin-role", "api", body=body, touches_patient=False))

    # --- REST API: records --------------------------------------------------------------
    add(
        Endpoint(
            API + "patients/",
            "GET",
            "member",
            "api",
            audit=("patient.search",),
            audit_patient=False,
        )
    )
    add(
        Endpoint(
            API + "patients/",
            "POST",
            "identity.write.practice",
            "api",
            body=lambda ctx: {
                "birth_name": "Enregistrement",
                "given_names": "Nouvelle",
                "sex": "F",
                "birth_date": "1991-01-01",
                "confirm_not_duplicate": True,
            },
            touches_patient=False,
            audit=("patient.create",),
            audit_patient=False,
        )
    )
    add(Endpoint(APAT, "GET", "identity.read", "api", audit=("patient.read",)))
    add(
        Endpoint(
            APAT,
            "PATCH",
            "identity.write",
            "api",
            body=lambda ctx: {"version": 1, "reason": "erreur de saisie", "phone": "0478000000"},
            audit=("patient.identity_corrected",),
        )
    )
    add(Endpoint(APAT + "chart/", "GET", "identity.read", "api", audit=("patient.read",)))
    add(Endpoint(APAT + "prescriptions/", "GET", "clinical.read", "api", audit=("patient.read",)))
    add(
        Endpoint(
            APAT + "prescriptions/",
            "POST",
            "clinical.write",
            "api",
            body=lambda ctx: {
                "items": [{"drug_label": "Paracétamol", "posology": "1 g", "duration_days": 5}]
            },
            audit=("prescription.create",),
        )
    )
    add(
        Endpoint(
            APAT + "prescriptions/check/",
            "POST",
            "clinical.write",
            "api",
            body=lambda ctx: {"items": [{"drug_label": "Paracétamol", "duration_days": 5}]},
            audit=("patient.write",),
        )
    )
    add(
        Endpoint(
            APAT + "prescriptions/<int:prescription_id>/pdf/",
            "GET",
            "entry.print",
            "api",
            entry="prescription",
            audit=("prescription.print",),
            pdf=True,
        )
    )
    add(
        Endpoint(
            APAT + "access-report/",
            "GET",
            "admin.print.request",
            "api",
            audit=("access_report.read",),
        )
    )
    add(Endpoint(APAT + "documents/", "GET", "clinical.read", "api", audit=("patient.read",)))
    add(
        Endpoint(
            APAT + "documents/",
            "POST",
            "clinical.write",
            "api",
            body=lambda ctx: _document_body(ctx),
            multipart=True,
            audit=("document.create",),
        )
    )
    add(
        Endpoint(
            APAT + "documents/<int:document_id>/file/",
            "GET",
            "entry.read",
            "api",
            entry="document",
            audit=("document.read",),
        )
    )
    add(
        Endpoint(
            APAT + "drafts/",
            "POST",
            "clinical.write",
            "api",
            body=lambda ctx: {"kind": "letters"},
            audit=("patient.write",),
        )
    )
    add(
        Endpoint(
            APAT + "letters/",
            "POST",
            "clinical.write",
            "api",
            body=lambda ctx: {
                "title": "t",
                "recipient": "r",
                "body": "b",
                "document_date": "2024-01-01",
            },
            audit=("document.create",),
        )
    )
    add(
        Endpoint(
            APAT + "exclusions/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: {"person": ctx.world.people["pia"].pk, "source": "formulaire"},
            audit=("patient_choice.exclude",),
        )
    )
    add(
        Endpoint(
            APAT + "exclusions/<int:restriction_id>/",
            "DELETE",
            "admin.write.lift",
            "api",
            audit=("patient_choice.exclusion_lifted",),
        )
    )
    add(
        Endpoint(
            APAT + "label-grants/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: {
                "person": ctx.world.people["bob"].pk,
                "label": "genetics",
                "source": "f",
            },
            audit=("patient_choice.label_allowed",),
        )
    )
    add(
        Endpoint(
            APAT + "label-grants/<int:grant_id>/",
            "DELETE",
            "admin.write",
            "api",
            audit=("patient_choice.label_revoked",),
        )
    )
    add(
        Endpoint(
            APAT + "break-glass/",
            "POST",
            "break-glass",
            "api",
            body=lambda ctx: {"reason": "urgence vitale pendant la garde"},
            audit=("break_glass.start",),
        )
    )
    add(Endpoint(API + "drugs/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(API + "substances/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(API + "atc-classes/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(API + "cim10/", "GET", "member", "api", touches_patient=False))
    for kind, (entry, body) in API_KINDS.items():
        action = API_KIND_ACTION[kind]
        add(Endpoint(APAT + f"{kind}/", "GET", "clinical.read", "api", audit=("patient.read",)))
        add(
            Endpoint(
                APAT + f"{kind}/",
                "POST",
                "clinical.write",
                "api",
                body=lambda ctx, body=body: dict(body),
                audit=(f"{action}.create",),
            )
        )
        detail = APAT + f"{kind}/<int:entry_id>/"
        add(Endpoint(detail, "GET", "entry.read", "api", entry=entry, audit=("patient.read",)))
        add(
            Endpoint(
                detail,
                "PATCH",
                "entry.write",
                "api",
                entry=entry,
                body=lambda ctx: {"version": 1, "reason": "précision"},
                audit=(f"{action}.update",),
            )
        )
        add(
            Endpoint(
                detail,
                "DELETE",
                "entry.write",
                "api",
                entry=entry,
                body=lambda ctx: {"version": 1, "reason": "erreur de dossier"},
                audit=(f"{action}.entered_in_error",),
            )
        )

    # --- REST API: billing --------------------------------------------------------------
    add(Endpoint(API + "fees/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(API + "fee-schedule/", "GET", "member", "api", touches_patient=False))
    add(
        Endpoint(
            API + "fee-schedule/",
            "POST",
            "admin-role",
            "api",
            body=_tariff_body,
            touches_patient=False,
        )
    )
    add(
        Endpoint(
            API + "fee-schedule/import/",
            "POST",
            "admin-role",
            "api",
            body=_tariff_import_body,
            touches_patient=False,
            notes="a dry run: checked, nothing stored",
        )
    )
    add(Endpoint(APAT + "invoices/", "GET", "admin.read.billing", "api", audit=("patient.read",)))
    add(
        Endpoint(
            APAT + "invoices/",
            "POST",
            "admin.read.billing",
            "api",
            body=_invoice_body,
            audit=("invoice.issue",),
        )
    )
    add(Endpoint(APAT + "cover/", "GET", "admin.read.billing", "api", audit=("patient.read",)))
    add(
        Endpoint(
            APAT + "cover/",
            "POST",
            "admin.write",
            "api",
            body=_cover_body,
            audit=("cover.record",),
        )
    )
    ainv = API + "invoices/<int:invoice_id>/"
    add(Endpoint(ainv, "GET", "admin.read.billing", "api", audit=("patient.read",)))
    add(
        Endpoint(
            ainv + "payments/",
            "POST",
            "admin.read.billing",
            "api",
            body=_payment_body,
            audit=("payment.record",),
        )
    )
    add(
        Endpoint(
            ainv + "credit-note/",
            "POST",
            "admin.read.billing",
            "api",
            body=lambda ctx: {"reason": "erreur de cotation"},
            audit=("invoice.issue", "credit_note.issue"),
        )
    )
    add(
        Endpoint(
            ainv + "care-sheet/",
            "GET",
            "admin.read.billing",
            "api",
            audit=("care_sheet.print",),
            pdf=True,
        )
    )
    add(Endpoint(API + "cash-days/<str:day>/", "GET", "member", "api", touches_patient=False))
    add(
        Endpoint(API + "cash-days/<str:day>/close/", "POST", "member", "api", touches_patient=False)
    )
    add(Endpoint(API + "accounting/fec/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(API + "tiers-payant/", "GET", "member", "api", touches_patient=False))
    add(Endpoint(API + "reports/care-work/", "GET", "report-role", "api", touches_patient=False))

    # --- REST API: sharing --------------------------------------------------------------
    add(Endpoint(APAT + "consents/", "GET", "admin.read.admin", "api", audit=("patient.read",)))
    add(
        Endpoint(
            APAT + "consents/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: {
                "grantee_node": ctx.node,
                "grantee_practice": ctx.share_to,
                "categories": ["allergies"],
                "source": "formulaire",
            },
            audit=("consent.give",),
        )
    )
    add(
        Endpoint(
            API + "consents/<int:consent_id>/",
            "DELETE",
            "admin.write",
            "api",
            audit=("consent.revoke",),
        )
    )
    add(
        Endpoint(
            API + "consents/<int:consent_id>/receipt/",
            "GET",
            "admin.write",
            "api",
            audit=("patient.write",),
            pdf=True,
        )
    )
    add(Endpoint(APAT + "shares/", "POST", "share", "api", body=_share_body, audit=("share.send",)))
    add(Endpoint(API + "outbox/", "GET", "staff-role", "api", touches_patient=False))
    add(Endpoint(API + "inbox/", "GET", "staff-role", "api", touches_patient=False))
    add(
        Endpoint(
            API + "inbox/<str:message_id>/",
            "GET",
            "practitioner-role",
            "api",
            audit=("share.open",),
            audit_patient=False,
            notes="a share received, not yet matched to a patient of the practice",
        )
    )
    add(
        Endpoint(
            API + "inbox/<str:message_id>/accept/",
            "POST",
            "practitioner-role",
            "api",
            body=lambda ctx: {"patient": None},
            audit=("share.accept",),
            audit_patient=False,
            notes="creates a new patient from the shared identity",
        )
    )
    add(
        Endpoint(
            API + "inbox/<str:message_id>/decline/",
            "POST",
            "practitioner-role",
            "api",
            body=lambda ctx: {"reason": "Patient inconnu ici"},
            audit=("share.decline",),
            audit_patient=False,
        )
    )
    add(Endpoint(API + "directory/", "GET", "member", "api", touches_patient=False))
    add(
        Endpoint(
            APAT + "refusal/",
            "POST",
            "admin.write",
            "api",
            body=lambda ctx: {"source": "formulaire"},
            audit=("consent.refuse_all",),
        )
    )
    add(
        Endpoint(
            APAT + "refusal/", "DELETE", "admin.write", "api", audit=("consent.refusal_lifted",)
        )
    )
    add(
        Endpoint(
            APAT + "portability/",
            "GET",
            "clinical.export.request",
            "api",
            audit=("patient.export",),
        )
    )

    # --- REST API: agenda ------------------------------------------------------------------
    _agenda_endpoints(add)

    # --- FHIR R4 --------------------------------------------------------------------------
    add(
        Endpoint(
            FHIR + "Patient",
            "GET",
            "member",
            "fhir",
            audit=("patient.search",),
            audit_patient=False,
        )
    )
    add(
        Endpoint(
            FHIR + "Patient/<str:resource_id>",
            "GET",
            "identity.read",
            "fhir",
            entry="patient",
            audit=("patient.read",),
        )
    )
    for resource, entry in FHIR_CLINICAL.items():
        add(
            Endpoint(
                FHIR + resource,
                "GET",
                "clinical.read",
                "fhir",
                query="patient={patient_id}",
                audit=("patient.read",),
            )
        )
        add(
            Endpoint(
                FHIR + resource + "/<str:resource_id>",
                "GET",
                "entry.read",
                "fhir",
                entry=entry,
                audit=("patient.read",),
            )
        )
    add(
        Endpoint(
            FHIR + "Patient/<str:resource_id>/$everything",
            "GET",
            "identity.read",
            "fhir",
            entry="patient",
            audit=("patient.read",),
            notes="the clinical part only when the clinical read is allowed too",
        )
    )
    for resource, entry in FHIR_CLINICAL.items():
        for route in ("/_history", "/_history/<str:version_id>"):
            add(
                Endpoint(
                    FHIR + resource + "/<str:resource_id>" + route,
                    "GET",
                    "entry.read",
                    "fhir",
                    entry=entry,
                    audit=("patient.read",),
                )
            )
    for route in ("/_history", "/_history/<str:version_id>"):
        add(
            Endpoint(
                FHIR + "Patient/<str:resource_id>" + route,
                "GET",
                "identity.read",
                "fhir",
                entry="patient",
                audit=("patient.read",),
            )
        )
    # The history of a whole type: any member may ask; the versions returned are those
    # the policy lets them see, patient by patient and entry by entry (one read
    # recorded per patient returned).
    for resource in ("Patient", *FHIR_CLINICAL):
        add(
            Endpoint(
                FHIR + resource + "/_history",
                "GET",
                "member",
                "fhir",
                audit=("patient.read",),
                audit_patient=False,
                notes="filtered by the policy; the body is checked for every marker",
            )
        )
    for resource, entry in (("Consent", "consent"), ("AuditEvent", "audit_event")):
        add(
            Endpoint(
                FHIR + resource,
                "GET",
                "admin.read.admin",
                "fhir",
                query="patient={patient_id}",
                audit=("patient.read",),
            )
        )
        add(
            Endpoint(
                FHIR + resource + "/<str:resource_id>",
                "GET",
                "admin.read.admin",
                "fhir",
                entry=entry,
                audit=("patient.read",),
            )
        )
    return e


ENDPOINTS: list[Endpoint] = _endpoints()

# Routes that hold no practice or patient data, with why they are open.
PUBLIC: dict[str, str] = {
    "healthz": "health check: status of the process and its database, no data",
    "i18n/setlang/": "language switch (a cookie)",
    "source/": "the code of the running version (GNU AGPL; tests/core/test_source.py)",
    "connexion/": "login, first step",
    "connexion/code/": "login, second factor",
    "deconnexion/": "ends the caller's own session",
    "invitation/<str:secret>/": "an invited person sets up their account; the secret is the key",
    "federation/v1/messages": "gateway: the sealed message authenticates itself (tests/sharing)",
    "api/schema/": "the OpenAPI schema (metadata)",
    "api/docs/": "the API documentation page (metadata)",
    "fhir/r4/metadata": "the FHIR CapabilityStatement (metadata)",
    "fhir/r4/": "FHIR 404 for any other path",
    "fhir/r4/<path:path>": "FHIR 404 for any other path",
    "agenda/ical/<str:token>.ics": (
        "a practitioner's calendar feed for a calendar program: the secret in the address"
        " is the key (tests/agenda/test_feed.py; test_matrix: the calendar feed)"
    ),
}


def by_key() -> dict[tuple[str, str], Endpoint]:
    return {(e.route, e.method): e for e in ENDPOINTS}
