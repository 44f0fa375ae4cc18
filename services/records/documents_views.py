"""Pages for documents: upload, write a letter, download or print — through the policy."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
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
from records import access as policy
from records import services
from records.forms import DocumentUploadForm, LetterForm
from records.models import Document, Patient
from records.views import _patient_for_writing


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
    if post is not None and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("file")
        try:
            with transaction.atomic():
                services.document_upload(
                    actor=request.actor,
                    access=patient_access,
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
        },
        status=400 if post is not None else 200,
    )


@practice_view
@require_http_methods(["GET", "POST"])
def letter_new(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient_access = _patient_for_writing(request, patient_id)
    post = request.POST if request.method == "POST" else None
    form = LetterForm(post, initial={"document_date": timezone.localdate()})
    if post is not None and form.is_valid():
        try:
            with transaction.atomic():
                letter = services.letter_write(
                    actor=request.actor, access=patient_access, **form.cleaned_data
                )
            return redirect("records:document", request.practice.slug, patient_id, letter.pk)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "records/document_form.html",
        {"form": form, "patient": patient_access.patient, "title": _("Write a letter")},
        status=400 if post is not None else 200,
    )


@practice_view
def document(request: PracticeRequest, patient_id: int, document_id: int) -> HttpResponseBase:
    """The file as uploaded, or the letter as a PDF. Audited as a read or a print."""
    patient = Patient.objects.filter(pk=patient_id).first()
    found = Document.objects.filter(pk=document_id, patient_id=patient_id).first()
    if patient is None or found is None:
        raise Http404(_("No such document."))
    patient_access = policy.access_for(patient)
    if found.kind == Document.Kind.LETTER:
        policy.require_entry(request.actor, Action.PRINT, patient_access, found)
        record_event(
            "letter.print",
            actor=request.actor,
            patient_id=patient.pk,
            category=Category.CLINICAL.value,
            target=f"document:{found.pk}",
        )
        pdf = render_pdf(
            "records/pdf/letter.html",
            {
                "practice": request.practice,
                "patient": patient,
                "letter": found,
                "author": found.author,
            },
        )
        return pdf_response(pdf, f"courrier-{found.pk}.pdf")
    policy.require_entry(request.actor, Action.READ, patient_access, found)
    record_event(
        "document.read",
        actor=request.actor,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        target=f"document:{found.pk}",
    )
    if not found.file:
        raise Http404(_("No such document."))
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["Content-Disposition"] = f'inline; filename="document-{found.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
