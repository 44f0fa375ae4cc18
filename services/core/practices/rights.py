"""The patients' rights on paper: a poster for the waiting room and a one-page leaflet
handed at registration, in the patient's language.

Right to paper and right to say no: a patient who never goes online still learns, in
plain words, what they can decide and that asking at the desk is enough. Both documents
name the practice and no patient; printing one is recorded in the audit trail.

The texts are gettext strings: a language added to ``settings.LANGUAGES`` with its
translations prints them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event
from core.documents.pdf import render_pdf
from core.practices.models import Practice

POSTER = "poster"
LEAFLET = "leaflet"
# Paper sizes of the poster: A4 on a board, A3 on a wall.
POSTER_SIZES = ("A4", "A3")


@dataclass(frozen=True)
class Right:
    """One thing the patient can decide: a short title (the poster's large line) and a
    sentence or two that say how (the leaflet adds them under the title)."""

    key: str
    title: Promise
    text: Promise


RIGHTS = (
    Right(
        "consent",
        _("Nothing is shared without your yes"),
        _(
            "Nothing from your record leaves the practice unless you say yes. You can "
            "withdraw your yes at any time: it applies from the next request."
        ),
    ),
    Right(
        "exclude",
        _("You can keep anyone out of your record, even your GP"),
        _(
            "You can refuse that a person reads your record, even your GP of record, for "
            "the whole record or for one piece of information."
        ),
    ),
    Right(
        "hide",
        _("You can hide a sensitive piece of information"),
        _(
            "A sensitive piece of information can be seen only by the carer who wrote it "
            "down, or by the people you choose."
        ),
    ),
    Right(
        "report",
        _("You can know who looked at your record"),
        _(
            "Every opening of your record is written down. Ask for the printed list: who "
            "looked, when and why."
        ),
    ),
    Right(
        "paper",
        _("You can have everything on paper"),
        _(
            "A copy of your record, your prescriptions, your invoices, the receipt of your "
            "consent: everything can be printed. You need no e-mail, no phone and no account."
        ),
    ),
)

# How to ask: the last word of both documents.
ASK = Right(
    "ask",
    _("Just ask at the desk"),
    _(
        "Say it at the desk or to your carer. Your choice is recorded and applies at once. "
        "You can change it whenever you wish. It is free."
    ),
)


def languages() -> list[tuple[str, str]]:
    """The languages the documents print in: those of the site."""
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _context(practice: Practice) -> dict[str, object]:
    return {
        "practice": practice,
        "rights": RIGHTS,
        "ask": ASK,
        "printed_on": timezone.localdate(),
    }


def _print(*, actor: Actor, practice: Practice, document: str, language: str, size: str) -> bytes:
    require_practice(actor, PracticeAction.PRINT_PATIENT_RIGHTS, practice.pk)
    with translation.override(language):
        pdf = render_pdf(
            f"practices/pdf/rights_{document}.html",
            {**_context(practice), "language": language, "size": size},
        )
    record_event(
        "practice.patient_rights.print",
        actor=actor,
        practice_id=practice.pk,
        target=f"practice:{practice.slug}",
        details={"document": document, "language": language, "size": size},
    )
    return pdf


def rights_poster_pdf(*, actor: Actor, practice: Practice, language: str, size: str) -> bytes:
    """The poster for the waiting room, in large type, one page of A4 or A3."""
    return _print(actor=actor, practice=practice, document=POSTER, language=language, size=size)


def rights_leaflet_pdf(*, actor: Actor, practice: Practice, language: str) -> bytes:
    """The leaflet handed to a patient, one page of A4."""
    return _print(actor=actor, practice=practice, document=LEAFLET, language=language, size="A4")
