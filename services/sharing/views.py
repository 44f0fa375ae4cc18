"""Pages: the patient's sharing consents (recorded from a signed paper form), their
receipts, and the practice's inbox of received shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.access import choices
from core.access.models import SensitivityLabel, ShareCategory, SharingConsent
from core.access.policy import Action, Category, Purpose
from core.access.selectors import consents_of
from core.documents.pdf import pdf_response, render_pdf
from core.practices.context import PracticeRequest, practice_view
from records import access as records_access
from records.selectors import Patient, patient_of_practice
from sharing import selectors, services


class ConsentForm(forms.Form):
    recipient = forms.ChoiceField(label=gettext_lazy("Recipient practice"))
    grantee_practitioner = forms.CharField(
        label=gettext_lazy("Only this practitioner (RPPS), optional"), max_length=20, required=False
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("What may be shared"),
        choices=ShareCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    labels = forms.MultipleChoiceField(
        label=gettext_lazy("Sensitive information the patient explicitly includes"),
        choices=SensitivityLabel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    source = forms.CharField(
        label=gettext_lazy("How the patient consented (e.g. signed form no.)"), max_length=200
    )


def _patient(request: PracticeRequest, patient_id: int) -> Patient:
    patient = patient_of_practice(patient_id)
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    records_access.require(
        request.actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.ADMINISTRATION,
    )
    return patient


@dataclass(frozen=True)
class ConsentRow:
    """A consent as the page says it: the recipient's name, what it covers in words."""

    consent: Any
    recipient: str
    what: str


def _category_words(categories: list[str], labels: list[str]) -> list[str]:
    words = [str(ShareCategory(c).label) if c in ShareCategory.values else c for c in categories]
    sensitive = [
        str(SensitivityLabel(label).label) if label in SensitivityLabel.values else label
        for label in labels or []
    ]
    return words + (
        [_("including: %(labels)s") % {"labels": ", ".join(sensitive)}] if sensitive else []
    )


@practice_view
@require_http_methods(["GET", "POST"])
def consents(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    form = ConsentForm(request.POST if request.method == "POST" else None)
    recipients = [
        (f"{e.node}/{e.slug}", f"{e.name} ({e.node})")
        for e in selectors.partner_practices(node=selectors.node_name(), slug=request.practice.slug)
    ]
    field = form.fields["recipient"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = recipients
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        node, _sep, slug = data["recipient"].partition("/")
        try:
            with transaction.atomic():
                choices.consent_give(
                    actor=request.actor,
                    patient_id=patient.pk,
                    grantee_node=node,
                    grantee_practice=slug,
                    grantee_practitioner=data["grantee_practitioner"],
                    categories=data["categories"],
                    labels=data["labels"],
                    valid_from=timezone.localdate(),
                    valid_until=data["valid_until"],
                    source=data["source"],
                )
            messages.success(
                request, _("The consent is recorded. Print the receipt for the patient.")
            )
            return redirect("sharing:consents", request.practice.slug, patient.pk)
        except ValidationError as error:
            form.add_error(None, error.messages)
    names = {(e.node, e.slug): e.name for e in selectors.directory_entries()}
    rows = [
        ConsentRow(
            consent=consent,
            recipient=names.get((consent.grantee_node, consent.grantee_practice))
            or consent.grantee_practice,
            what=", ".join(_category_words(consent.categories, consent.labels)),
        )
        for consent in consents_of(patient.pk)
    ]
    return render(
        request,
        "sharing/consents.html",
        {
            "patient": patient,
            "form": form,
            "consents": rows,
            "no_partner": not recipients,
        },
        status=400 if request.method == "POST" else 200,
    )


def _consent(
    request: PracticeRequest, patient_id: int, consent_id: int
) -> tuple[Patient, SharingConsent]:
    patient = _patient(request, patient_id)
    consent = SharingConsent.objects.filter(pk=consent_id, patient_id=patient.pk).first()
    if consent is None:
        raise Http404(_("No such consent."))
    return patient, consent


@practice_view
@require_POST
def consent_revoke(request: PracticeRequest, patient_id: int, consent_id: int) -> HttpResponse:
    _patient_row, consent = _consent(request, patient_id, consent_id)
    with transaction.atomic():
        services.consent_revoke_and_notify(
            actor=request.actor, practice=request.practice, consent=consent
        )
    messages.success(request, _("The consent is revoked: nothing more will be sent."))
    return redirect("sharing:consents", request.practice.slug, patient_id)


@practice_view
def consent_receipt(request: PracticeRequest, patient_id: int, consent_id: int) -> HttpResponse:
    patient, consent = _consent(request, patient_id, consent_id)
    pdf = render_pdf(
        "sharing/pdf/consent_receipt.html",
        {
            "consent": consent,
            "patient": patient,
            "practice": request.practice,
            "categories": [ShareCategory(c).label for c in consent.categories],
        },
    )
    return pdf_response(pdf, f"consentement-{consent.pk}.pdf")


@practice_view
def inbox(request: PracticeRequest) -> HttpResponse:
    selectors.require_exchange_reader(request.actor, request.practice.pk)
    received = selectors.inbox_shares(limit=200)
    return render(request, "sharing/inbox.html", {"messages_received": received})
