"""Certificates and letters written from models: the text is filled from the record,
then edited by the practitioner before it is stored and printed.

The models are in French: they are printed documents handed to a patient, a school, an
employer, a sports club or a colleague in France. Placeholders are ``{name}`` fields
filled by ``fill``; what is not known (no RPPS yet, no address) is left empty rather
than invented. The arrêt de travail is not here on purpose: it goes through the
national online service (AAT on amelipro) or its secure paper form (Cerfa), never a
free-text certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from records.models import Document, Patient
from records.templatetags.patients import age_text


@dataclass(frozen=True)
class Model:
    """A model of certificate or letter."""

    key: str
    name: Any  # shown in the interface (translated)
    title: str  # printed (French)
    kind: str  # Document.Kind
    body: str
    needs_recipient: bool = False


CERTIFICATE_HEADING = (
    "Je soussigné(e), {practitioner}, {profession}, certifie avoir examiné ce jour "
    "{patient_title} {patient}, né(e) le {birth_date} ({age})"
)

MODELS: dict[str, Model] = {
    model.key: model
    for model in (
        Model(
            "medical",
            _("Medical certificate"),
            "Certificat médical",
            Document.Kind.CERTIFICATE,
            CERTIFICATE_HEADING + ", et certifie que :\n\n"
            "[constatations]\n\n"
            "Certificat établi à la demande de l'intéressé(e) et remis en main propre "
            "pour servir et valoir ce que de droit.",
        ),
        Model(
            "absence",
            _("Certificate of absence (school, work)"),
            "Certificat médical d'absence",
            Document.Kind.CERTIFICATE,
            CERTIFICATE_HEADING + ".\n\n"
            "Son état de santé a justifié une absence du {date} au [date de fin] inclus.\n\n"
            "Ce certificat ne vaut pas arrêt de travail. Certificat établi à la demande "
            "de l'intéressé(e) et remis en main propre.",
        ),
        Model(
            "sport",
            _("No contraindication to sport"),
            "Certificat de non-contre-indication à la pratique sportive",
            Document.Kind.CERTIFICATE,
            CERTIFICATE_HEADING + ", et n'avoir constaté à ce jour aucun signe clinique "
            "contre-indiquant la pratique de [sport], [en compétition / en loisir].\n\n"
            "Certificat établi à la demande de l'intéressé(e) et remis en main propre.",
        ),
        Model(
            "referral",
            _("Referral letter to a colleague"),
            "Courrier d'adressage",
            Document.Kind.LETTER,
            "Cher confrère, chère consœur,\n\n"
            "Je vous adresse {patient_title} {patient}, né(e) le {birth_date} ({age}), "
            "pour [motif].\n\n"
            "Antécédents et problèmes actifs : {problems}\n"
            "Traitement en cours : {treatment}\n"
            "Allergies : {allergies}\n\n"
            "[histoire, examen, question posée]\n\n"
            "Je vous remercie de me tenir informé(e) de votre avis.\n\n"
            "Bien confraternellement,\n{practitioner}",
            needs_recipient=True,
        ),
    )
}


def patient_title(patient: Patient) -> str:
    return {"F": "Madame", "M": "Monsieur"}.get(patient.sex, "")


def listing(items: Sequence[str]) -> str:
    return " ; ".join(items) if items else "aucun connu"


def fill(
    model: Model,
    *,
    patient: Patient,
    author: Any,
    today: date,
    problems: Sequence[str] = (),
    treatment: Sequence[str] = (),
    allergies: Sequence[str] = (),
) -> str:
    """The model's text with the record's values in place of its placeholders, in French
    whatever the screen's language (it is printed)."""
    with translation.override("fr"):
        return _fill(model, patient, author, today, problems, treatment, allergies)


def _fill(
    model: Model,
    patient: Patient,
    author: Any,
    today: date,
    problems: Sequence[str],
    treatment: Sequence[str],
    allergies: Sequence[str],
) -> str:
    family = (patient.used_name or patient.birth_name).upper()
    values = {
        "patient": f"{patient.given_names} {family}",
        "patient_title": patient_title(patient),
        "birth_date": patient.birth_date.strftime("%d/%m/%Y"),
        "age": age_text(patient.birth_date, today),
        "practitioner": author.full_name,
        "profession": author.get_profession_display().lower() or "médecin",
        "date": today.strftime("%d/%m/%Y"),
        "problems": listing(problems),
        "treatment": listing(treatment),
        "allergies": listing(allergies),
    }
    return model.body.format(**values).replace("  ", " ")
