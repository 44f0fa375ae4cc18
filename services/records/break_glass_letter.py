"""The letter telling a patient that their record was opened by emergency access
(break-the-glass): right to paper, handed over at the desk or posted.

It is printed in French whatever the screen's language: it is a letter to the patient.
Printing it reads the patient's identity (name and postal address): one audited read.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.access import selectors as access_selectors
from core.access.policy import Action, Actor, Category, Purpose
from core.documents.pdf import render_pdf
from core.practices.models import Practice
from records import access as records_access
from records.models import Patient

# Written out: the patient reads ``Madame``/``Monsieur``, never a code.
TITLES = {"F": "Madame", "M": "Monsieur"}


def break_glass_letter_pdf(
    *, actor: Actor, practice: Practice, patient_id: int, grant_id: int
) -> bytes:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    grant = access_selectors.break_glass_get(patient.pk, grant_id)
    if grant is None:
        raise Http404(_("No such emergency access."))
    records_access.require(
        actor, Action.READ, Category.IDENTITY, patient, purpose=Purpose.ADMINISTRATION
    )
    with translation.override("fr"):
        return render_pdf(
            "records/pdf/break_glass_letter.html",
            {
                "practice": practice,
                "patient": patient,
                "title": TITLES.get(patient.sex, ""),
                "salutation": TITLES.get(patient.sex, "Madame, Monsieur"),
                "grant": grant,
                "opener": grant.person,
                "profession": grant.person.get_profession_display(),
                "today": timezone.localdate(),
            },
        )
