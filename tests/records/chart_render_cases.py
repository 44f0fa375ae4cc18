"""The cases of tests/records/test_chart_render.py: plots and vital signs with every
branch their HTML can take (one point, two series, small decimals, text to escape)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from records.vitals import Plot, Reading, Vitals, plot

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2024, 3, 1, 23, 30, tzinfo=PARIS)  # late: the day is the local one


def _weights() -> list[tuple[datetime, Decimal]]:
    values = ["71.5", "74.1", "70.9", "73.5", "72.85", "74.2", "71.1", "72.45"]
    return [(START + timedelta(days=41 * i), Decimal(v)) for i, v in enumerate(values)]


A1C = ["1.02", "0.95", "1.125", "0.975"]


def plots() -> dict[str, Plot]:
    """Each case's plot, built by records.vitals.plot as the chart builds them."""
    weight = plot("weight", "Évolution du poids", [("Poids", "weight", _weights())], "kg")
    systolic = [(START + timedelta(days=30 * i), Decimal(120 + 3 * i)) for i in range(6)]
    diastolic = [(START + timedelta(days=60 * i), Decimal(70 + i)) for i in range(3)]
    pressure = plot(
        "bp",
        "Pression artérielle",
        [("Systolique", "systolic", systolic), ("Diastolique", "diastolic", diastolic)],
        "mmHg",
    )
    single = plot(
        "temperature", "Température", [("T°", "temperature", [(START, Decimal("38.25"))])], "°C"
    )
    lab = plot(
        "lab-hba1c",
        "HbA1c",
        [
            (
                "HbA1c",
                "lab",
                [(START + timedelta(days=90 * i), Decimal(v)) for i, v in enumerate(A1C)],
            )
        ],
        "g/L",
        least_pad=0.05,
    )
    hostile = plot(
        "lab-x",
        "<b>\"Tom\" & 'Jerry'</b>",
        [("<i>a&b</i>", "lab", [(START, Decimal(1)), (START + timedelta(days=3), Decimal("2.5"))])],
        "<u>",
    )
    found = {"weight": weight, "pressure": pressure, "single": single, "lab": lab}
    found["hostile"] = hostile
    assert all(p is not None for p in found.values())
    return {name: p for name, p in found.items() if p is not None}


def vitals() -> dict[str, Vitals]:
    every = plots()
    readings = [
        Reading("Poids", "72,4 kg", START),
        Reading("Pression artérielle", "132/68 mmHg", START + timedelta(hours=2)),
        Reading("<Pouls>", "76 /min & plus", START + timedelta(days=300)),
    ]
    return {
        "with_plots": Vitals(readings, [every["weight"], every["pressure"]]),
        "readings_only": Vitals(readings[:1], []),
        "none": Vitals(),
    }


def clinical() -> dict[str, dict[str, object]]:
    """The chart's clinical part: every section full (entries to escape, an ALD, a
    sensitive problem, a certificate, pending results, multi-line notes), and every
    section empty."""
    from types import SimpleNamespace

    from records.models import (
        Document,
        Encounter,
        Immunization,
        Observation,
        Patient,
        Prescription,
        PrescriptionItem,
        Problem,
    )
    from records.selectors.chart import Chart

    patient = Patient(pk=561, birth_name="Aubry", given_names="Maëlle")
    practice = SimpleNamespace(slug="cab-o-brien")
    day = START.date()
    problems = [
        Problem(pk=11, label="Diabète de type 2", code="E11", long_term_condition=True),
        Problem(pk=12, label='Dépression <"sévère">', code="", sensitivity="mental_health"),
    ]
    history = [Problem(pk=13, label="Appendicectomie", onset=day), Problem(pk=14, label="Asthme")]
    prescription = Prescription(pk=61, prescribed_on=day, renewals=2)
    treatment = [
        PrescriptionItem(
            prescription=prescription,
            drug_label="METFORMINE 1000 mg",
            posology="1 cp matin & soir",
            duration_days=30,
        )
    ]
    results = [
        Observation(pk=21, label="HbA1c", effective_at=START, value=Decimal("7.2"), unit="%"),
        Observation(pk=22, label="ECBU", effective_at=START, value_text="<négatif>", unit=""),
    ]
    documents = [
        Document(pk=31, title="Courrier d'O'Brien <cardiologue>", document_date=day),
        Document(pk=32, title="Certificat de non contre-indication", document_date=day),
    ]
    documents[1].kind = "certificate"
    immunizations = [
        Immunization(pk=41, vaccinated_on=day, vaccine="Vaccin " + "très long nom " * 6),
        Immunization(pk=42, vaccinated_on=day, vaccine="Grippe"),
    ]
    encounters = [
        Encounter(
            pk=51,
            occurred_at=START,
            reason="Toux & fièvre",
            subjective="Depuis 3 jours.\nPas de <dyspnée>.",
            objective="T 38,2",
            assessment="Rhinopharyngite",
            plan="Paracétamol\r\nRevoir si besoin",
        ),
        Encounter(pk=52, occurred_at=START + timedelta(days=2), reason="Renouvellement"),
    ]
    immunizations[0].lot_number = "AB<12>"
    full = Chart(
        patient=patient,
        access=None,  # type: ignore[arg-type]
        clinical_allowed=True,
        problems=problems,
        history=history,
        treatment=treatment,
        encounters=encounters,
        immunizations=immunizations,
        pending_results=results,
        pending_documents=documents[:1],
        documents=documents,
        vitals=vitals()["with_plots"],
        lab_trends=[plots()["lab"]],
    )
    empty = Chart(patient=patient, access=None, clinical_allowed=True)  # type: ignore[arg-type]
    return {
        "full": {"patient": patient, "current_practice": practice, "chart": full},
        "empty": {"patient": patient, "current_practice": practice, "chart": empty},
    }


def banners() -> dict[str, dict[str, object]]:
    """The identity banner: a patient with every fact the banner shows (to escape, with
    allergies of each kind), one with none, a deceased and merged one, one whose
    allergies are known to be none, and one whose allergies the reader may not see."""
    from types import SimpleNamespace

    from core.accounts.models import Person
    from records.models import Allergy, Patient

    practice = SimpleNamespace(slug="cab-o-brien", pk=1)
    gp = Person(pk=7, full_name="Dr Jeanne O'Brien <b>")
    full = Patient(
        pk=561,
        birth_name="Aubry",
        used_name="Léger & fils",
        given_names="Maëlle",
        sex="F",
        birth_date=START.date().replace(year=1970),
        birth_place="Saint-Étienne",
        nir="270034203912345",
        address="3 rue de l'Église",
        postal_code="42000",
        city="Saint-Étienne",
        phone="06 12 34 56 78",
        email="m.aubry@example.org",
        contact_preference="paper",
        gp=gp,
        gp_since=START.date(),
        trusted_person_name="Paul <Aubry>",
        trusted_person_relation="frère",
        advance_directives=True,
        advance_directives_location="chez le notaire",
    )
    allergies = [
        Allergy(pk=1, substance="Pénicilline", reaction="urticaire", severity="severe"),
        Allergy(pk=2, substance="Lactose <x>", kind="intolerance", severity="mild"),
        Allergy(pk=3, substance="Arachide"),
    ]
    bare = Patient(pk=562, birth_name="Bon", given_names="Jean", sex="M", birth_date=START.date())
    gone = Patient(
        pk=563,
        birth_name="Ancien",
        given_names="Luc",
        sex="M",
        birth_date=START.date().replace(year=1930),
        deceased_on=START.date(),
        merged_into_id=564,
        advance_directives=True,
        gp=gp,
    )
    cases: dict[str, dict[str, object]] = {
        "full": {"patient": full, "allergies": allergies, "allergies_known": True},
        "bare": {"patient": bare},
        "gone": {"patient": gone, "allergies": [], "allergies_known": True},
        "not_known": {"patient": full, "allergies": allergies, "allergies_known": False},
    }
    return {name: {**values, "current_practice": practice} for name, values in cases.items()}


def identity_sections() -> dict[str, dict[str, object]]:
    """The chart's identity section: a patient with a history of changes (fields
    changed, a death with no field, text to escape) and every action allowed; one with
    no history, no contact asked, and no action allowed; a merged one."""
    from types import SimpleNamespace

    from core.accounts.models import Person
    from records.models import IdentityChange

    banner = banners()
    full, bare, gone = (banner[name]["patient"] for name in ("full", "bare", "gone"))
    clerk = Person(pk=8, full_name="Sam <Secrétaire> & co")
    history = [
        IdentityChange(
            pk=1,
            kind="correction",
            changes={"birth_name": ["Aubri", "Aubry"], "birth_date": ["1970-01-03", "1970-03-01"]},
            reason="Erreur de saisie <accueil>",
            changed_by=clerk,
            changed_at=START,
        ),
        IdentityChange(
            pk=2, kind="death", changes={}, reason="", changed_by=clerk, changed_at=START
        ),
    ]
    practice = SimpleNamespace(slug="cab-o-brien", pk=1)
    every = SimpleNamespace(merge_records=True)
    none = SimpleNamespace(merge_records=False)
    return {
        "full": {
            "patient": full,
            "chart": SimpleNamespace(identity_history=history),
            "may_edit_identity": True,
            "may": every,
            "current_practice": practice,
        },
        "bare": {
            "patient": bare,
            "chart": SimpleNamespace(identity_history=[]),
            "may_edit_identity": False,
            "may": none,
            "current_practice": practice,
        },
        "gone": {
            "patient": gone,
            "chart": SimpleNamespace(identity_history=history[1:]),
            "may_edit_identity": True,
            "may": none,
            "current_practice": practice,
        },
    }


def care_teams() -> dict[str, dict[str, object]]:
    """The care team: members of each kind (GP of record, excluded, no profession) with
    the right to change it and candidates to add, and errors to show; the practice's
    whole team, read only; nobody."""
    from types import SimpleNamespace

    from core.accounts.models import Person
    from records.selectors.care_team import CareTeam, TeamMember

    gp = Person(pk=7, full_name="Dr Jeanne O'Brien <b>", profession="gp")
    nurse = Person(pk=9, full_name="Inès Infirmière", profession="nurse")
    other = Person(pk=10, full_name='Paul "Kiné"', profession="")
    practice = SimpleNamespace(slug="cab-o-brien", pk=1)
    patient = banners()["full"]["patient"]
    members = [
        TeamMember(person=gp, gp_of_record=True, excluded=False),
        TeamMember(person=nurse, gp_of_record=False, excluded=True),
        TeamMember(person=other, gp_of_record=False, excluded=False),
    ]
    changing = CareTeam(
        practice_team=False, members=members, candidates=[nurse, other], may_change=True
    )
    whole = CareTeam(practice_team=True, members=members[:1], candidates=[], may_change=False)
    nobody = CareTeam(practice_team=False, members=[], candidates=[], may_change=True)
    errors = {"person": ["Choisissez une personne <valide>.", "Encore une erreur."]}
    cases: dict[str, dict[str, object]] = {
        "changing": {"team": changing, "back": "chart", "errors": errors},
        "whole": {"team": whole, "back": "team"},
        "nobody": {"team": nobody},
    }
    return {
        name: {**values, "patient": patient, "current_practice": practice}
        for name, values in cases.items()
    }
