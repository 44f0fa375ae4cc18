"""Pages of the exchange: the patient's shares as the sending practice sees them (state
and receipt of each), and a received share opened from the inbox (preview, decline with
a reason that travels back).

Thin views: the rules live in the access policy (``records.access``) and in
``sharing.selectors.require_share_reader``; writes in ``sharing.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access.models import ShareCategory
from core.access.policy import Action, Category
from core.access.selectors import consents_of
from core.access.services import AccessDenied
from core.access.sharing import Recipient
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records import access as records_access
from records.selectors import Patient, patient_of_practice
from sharing import selectors, services
from sharing.models import InboxMessage


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why you decline it (the sending practice reads it)"),
        max_length=services.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ShareForm(forms.Form):
    recipient = forms.ChoiceField(label=gettext_lazy("Recipient practice"))
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("What to send from the record"),
        choices=[c for c in ShareCategory.choices if c[0] != ShareCategory.LETTERS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    entries = forms.MultipleChoiceField(
        label=gettext_lazy("Or only some entries"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    letter = forms.CharField(
        label=gettext_lazy("Referral letter (kept in the record, sent as PDF)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=20000,
        required=False,
    )
    documents = forms.MultipleChoiceField(
        label=gettext_lazy("Documents to send"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        chosen = ("categories", "entries", "documents")
        if not (any(data.get(name) for name in chosen) or data.get("letter", "").strip()):
            raise forms.ValidationError(
                _("Choose what to send: a part of the record, a letter or a document.")
            )
        return data


def _share_form(request: PracticeRequest, patient: Patient) -> ShareForm:
    """The form, offering the partner practices an active consent of the patient names
    and the documents the sender may see."""
    form = ShareForm(request.POST if request.method == "POST" else None)
    names = _names()
    recipients: list[tuple[str, str]] = []
    for consent in consents_of(patient.pk):
        key = (consent.grantee_node, consent.grantee_practice)
        if consent.status != "active" or key not in names:
            continue
        label = f"{names[key]} ({consent.grantee_node})"
        if consent.grantee_practitioner:
            label += f" — RPPS {consent.grantee_practitioner}"
        value = "/".join([*key, consent.grantee_practitioner])
        if value not in dict(recipients):
            recipients.append((value, label))
    recipient = form.fields["recipient"]
    assert isinstance(recipient, forms.ChoiceField)
    recipient.choices = recipients
    entries = form.fields["entries"]
    assert isinstance(entries, forms.MultipleChoiceField)
    entries.choices = selectors.shareable_entries(actor=request.actor, patient=patient)
    documents = form.fields["documents"]
    assert isinstance(documents, forms.MultipleChoiceField)
    documents.choices = [
        (str(d.pk), f"{d.title} — {d.document_date:%d/%m/%Y}")
        for d in selectors.shareable_documents(actor=request.actor, patient=patient)
    ]
    return form


NEW = "new"


class AcceptForm(forms.Form):
    """The practitioner says whom the share is about: no choice is made for them."""

    match = forms.ChoiceField(
        label=gettext_lazy("Whom is this share about?"), widget=forms.RadioSelect
    )


def _accept_form(data: object, candidates: list[tuple[Patient, bool]]) -> AcceptForm:
    form = AcceptForm(data)  # type: ignore[arg-type]
    choices = []
    for patient, linked in candidates:
        label = _("%(name)s, born on %(born)s — record no. %(id)s") % {
            "name": patient.display_name,
            "born": f"{patient.birth_date:%d/%m/%Y}" if patient.birth_date else "?",
            "id": patient.pk,
        }
        if linked:
            label += " " + _("(an earlier share of this person went into it)")
        choices.append((str(patient.pk), label))
    choices.append((NEW, _("Nobody here: register a new patient from the shared identity")))
    field = form.fields["match"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices
    return form


def _patient(patient_id: int) -> Patient:
    patient = patient_of_practice(patient_id)
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    return patient


def _names() -> dict[tuple[str, str], str]:
    return {(e.node, e.slug): e.name for e in selectors.directory_entries()}


def _what(summary: dict[str, object]) -> list[str]:
    """What a share carried, in words: "Allergies and intolerances (2)"..."""
    labels = dict(ShareCategory.choices)
    counts = summary.get("categories") or {}
    assert isinstance(counts, dict)
    return [f"{labels.get(category, category)} ({count})" for category, count in counts.items()]


@practice_view
@require_http_methods(["GET", "POST"])
def patient_shares(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient = _patient(patient_id)
    # The page is for whoever may send this patient's record (audited as patient.share).
    records_access.require(request.actor, Action.SHARE, Category.CLINICAL, patient)
    form = _share_form(request, patient)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            node, slug, practitioner = form.cleaned_data["recipient"].split("/", 2)
            try:
                with transaction.atomic():
                    services.share_send(
                        actor=request.actor,
                        practice=request.practice,
                        patient=patient,
                        recipient=Recipient(node, slug, practitioner),
                        categories=form.cleaned_data["categories"],
                        letter=form.cleaned_data["letter"],
                        documents=[int(d) for d in form.cleaned_data["documents"]],
                        entries=form.cleaned_data["entries"],
                    )
            except ValidationError as error:
                attach_service_errors(form, error)
            except AccessDenied as error:
                form.add_error(None, str(error))
                status = 403
            else:
                messages.success(
                    request, _("The share is sent. Its state shows below as it progresses.")
                )
                return redirect("sharing:patient-shares", request.practice.slug, patient.pk)
    names = _names()
    withdrawn = {c.pk for c in consents_of(patient.pk) if c.status != "active"}
    shares = [
        {
            "message": m,
            "recipient": names.get((m.recipient_node, m.recipient_practice), m.recipient_practice),
            "consent_withdrawn": m.consent_id in withdrawn,
            "what": _what(m.summary),
        }
        for m in selectors.patient_shares(patient_id=patient.pk)
    ]
    return render(
        request,
        "sharing/patient_shares.html",
        {"patient": patient, "shares": shares, "form": form},
        status=status,
    )


def _received(message_id: str) -> InboxMessage:
    message = selectors.inbox_share(message_id)
    if message is None:
        raise Http404(_("No such share received."))
    return message


def _detail(
    request: PracticeRequest,
    message: InboxMessage,
    decline: DeclineForm | None = None,
    accept: AcceptForm | None = None,
    status: int = 200,
) -> HttpResponse:
    bundle = selectors.share_preview(actor=request.actor, message=message)
    overview = selectors.share_overview(bundle)
    is_open = message.status == InboxMessage.Status.RECEIVED
    if accept is None and is_open:
        accept = _accept_form(None, selectors.match_candidates(actor=request.actor, bundle=bundle))
    return render(
        request,
        "sharing/inbox_share.html",
        {
            "message": message,
            "overview": overview,
            "sender": _names().get((message.sender_node, message.sender_practice), ""),
            "decline_form": decline or DeclineForm(),
            "accept_form": accept,
            "open": is_open,
        },
        status=status,
    )


@practice_view
@require_GET
def inbox_share(request: PracticeRequest, message_id: str) -> HttpResponse:
    return _detail(request, _received(message_id))


@practice_view
@require_POST
def inbox_decline(request: PracticeRequest, message_id: str) -> HttpResponse:
    message = _received(message_id)
    selectors.require_share_reader(request.actor, message)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.share_decline(
                actor=request.actor,
                practice=request.practice,
                message=message,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request, _("The share is declined; the sending practice will read your reason.")
            )
            return redirect("sharing:inbox", request.practice.slug)
    return _detail(request, message, decline=form, status=400)


@practice_view
@require_POST
def inbox_accept(request: PracticeRequest, message_id: str) -> HttpResponse:
    message = _received(message_id)
    bundle = selectors.share_bundle(actor=request.actor, message=message)
    form = _accept_form(
        request.POST, selectors.match_candidates(actor=request.actor, bundle=bundle)
    )
    if form.is_valid():
        match = form.cleaned_data["match"]
        chosen = None if match == NEW else _patient(int(match))
        try:
            with transaction.atomic():
                target = services.share_accept(
                    actor=request.actor,
                    practice=request.practice,
                    message=message,
                    patient=chosen,
                    confirm_new=match == NEW,
                )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The share is in the record; a receipt goes back to the sending practice."),
            )
            return redirect("records:chart", request.practice.slug, target.pk)
    return _detail(request, message, accept=form, status=400)
