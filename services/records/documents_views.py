"""Pages for documents: upload, write a letter, download or print — through the policy."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.access.policy import Action, Category
from core.audit.services import record_event
from core.documents.pdf import pdf_response, render_pdf
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records import access as records_access
from records import certificates, selectors, services
from records.forms import CertificateForm, DocumentUploadForm, LetterForm
from records.models import Document, Patient
from records.services.care_time import ActKind
from records.views import _draft, _patient_for_writing, _save_timed


@practice_view
@require_http_methods(["GET", "POST"])
def document_upload(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient_access = _patient_for_writing(request, patient_id)
    post = request.POST if request.method == "POST" else None
    form = DocumentUploadForm(
        post,
        request.FILES if post is not None else None,
        initial={"document_date": timezone.localdate()},
    )
    draft = _draft(request, ActKind.DOCUMENT, patient_id)
    if post is not None and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("file")
        try:
            _save_timed(
                request,
                ActKind.DOCUMENT,
                draft,
                patient_access,
                services.document_upload,
                upload=upload,
                size=upload.size,
                **data,
            )
            messages.success(request, _("Document added."))
            return redirect("records:chart", request.practice.slug, patient_id)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "records/document_form.html",
        {
            "form": form,
            "patient": patient_access.patient,
            "title": _("Add a document"),
            "multipart": True,
            "draft": draft,
        },
        status=400 if post is not None else 200,
    )


@practice_view
@require_http_methods(["GET", "POST"])
def letter_new(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient_access = _patient_for_writing(request, patient_id)
    post = request.POST if request.method == "POST" else None
    form = LetterForm(post, initial={"document_date": timezone.localdate()})
    draft = _draft(request, ActKind.LETTER, patient_id)
    if post is not None and form.is_valid():
        try:
            letter = _save_timed(
                request,
                ActKind.LETTER,
                draft,
                patient_access,
                services.letter_write,
                **form.cleaned_data,
            )
            return redirect("records:document", request.practice.slug, patient_id, letter.pk)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "records/document_form.html",
        {
            "form": form,
            "patient": patient_access.patient,
            "title": _("Write a letter"),
            "draft": draft,
        },
        status=400 if post is not None else 200,
    )


@practice_view
def certificate_choose(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """The models of certificates and letters to start from."""
    patient_access = _patient_for_writing(request, patient_id)
    return render(
        request,
        "records/certificate_choose.html",
        {"patient": patient_access.patient, "models": list(certificates.MODELS.values())},
    )


@practice_view
@require_http_methods(["GET", "POST"])
def certificate_new(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """A certificate or letter from a model (``?modele=``): the text filled from the
    record, edited, then stored and printed."""
    model = certificates.MODELS.get(request.GET.get("modele", "")[:20])
    if model is None:
        raise Http404(_("Unknown model of certificate."))
    patient_access = _patient_for_writing(request, patient_id)
    post = request.POST if request.method == "POST" else None
    initial: dict[str, object] = {"document_date": timezone.localdate(), "title": model.title}
    if post is None:
        initial["body"] = _filled(request, model, patient_access)
    form = CertificateForm(post, initial=initial, needs_recipient=model.needs_recipient)
    draft = _draft(request, ActKind.CERTIFICATE, patient_id)
    if post is not None and form.is_valid():
        try:
            written = _save_timed(
                request,
                ActKind.CERTIFICATE,
                draft,
                patient_access,
                services.certificate_write,
                model=model.key,
                **form.cleaned_data,
            )
            messages.success(request, _("Saved in the record; print it from the PDF."))
            return redirect("records:document", request.practice.slug, patient_id, written.pk)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "records/document_form.html",
        {
            "form": form,
            "patient": patient_access.patient,
            "title": model.name,
            "submit": _("Save and print"),
            "draft": draft,
        },
        status=400 if post is not None else 200,
    )


def _filled(
    request: PracticeRequest, model: certificates.Model, access: records_access.PatientAccess
) -> str:
    """The model filled from the record. A referral letter names the problems, the
    treatment and the allergies: they are read through the chart (policy, audit)."""
    lists: dict[str, list[str]] = {}
    if "{problems}" in model.body or "{treatment}" in model.body:
        chart = selectors.chart_for(actor=request.actor, patient_id=access.patient.pk)
        lists = {
            "problems": [p.label for p in chart.problems],
            "treatment": [f"{i.drug_label} ({i.posology})" for i in chart.treatment],
            "allergies": [a.substance for a in chart.allergies],
        }
    return certificates.fill(
        model,
        patient=access.patient,
        author=request.user,
        today=timezone.localdate(),
        **lists,
    )


# The documents Carnet writes are printed from their text: the event, the template, the
# name the template gives the document, and the start of the file's name.
PRINTED: dict[str, tuple[str, str, str, str]] = {
    Document.Kind.CERTIFICATE: (
        "certificate.print",
        "records/pdf/certificate.html",
        "certificate",
        "certificat",
    ),
    Document.Kind.LETTER: ("letter.print", "records/pdf/letter.html", "letter", "courrier"),
}


def _audited_open(
    request: PracticeRequest,
    patient_access: records_access.PatientAccess,
    found: Document,
    action: Action,
    event: str,
) -> None:
    """The policy's decision on the entry (a refusal audited by it), then one event for
    the read or the print (a certificate's event names its model)."""
    records_access.require_entry(request.actor, action, patient_access, found, audit_success=False)
    model = found.template if found.kind == Document.Kind.CERTIFICATE else ""
    record_event(
        event,
        actor=request.actor,
        patient_id=patient_access.patient.pk,
        category=Category.CLINICAL.value,
        target=f"document:{found.pk}",
        details={"model": model} if model else None,
    )


@practice_view
def document(request: PracticeRequest, patient_id: int, document_id: int) -> HttpResponseBase:
    """The file as uploaded, or the letter as a PDF. Audited as a read or a print."""
    patient = Patient.objects.filter(pk=patient_id).first()
    found = Document.objects.filter(pk=document_id, patient_id=patient_id).first()
    if patient is None or found is None:
        raise Http404(_("No such document."))
    patient_access = records_access.access_for(patient)
    printed = PRINTED.get(found.kind)
    if printed is not None:
        event, template, name, filename = printed
        _audited_open(request, patient_access, found, Action.PRINT, event)
        context = {"practice": request.practice, "patient": patient, "author": found.author}
        pdf = render_pdf(template, {**context, name: found})
        return pdf_response(pdf, f"{filename}-{found.pk}.pdf")
    _audited_open(request, patient_access, found, Action.READ, "document.read")
    if not found.file:
        raise Http404(_("No such document."))
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["Content-Disposition"] = f'inline; filename="document-{found.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
