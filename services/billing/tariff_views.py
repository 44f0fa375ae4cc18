"""The practice's fee schedule: the tariffs in force on a day (any member, printable),
a dated tariff added by an administrator, a CSV file of tariffs previewed then imported.

The policy decides (``PracticeAction.MANAGE_FEE_SCHEDULE`` to change, ``VIEW_SETTINGS``
to read); the services refuse what would reprice a day already billed."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing import fees
from billing.forms import TARIFF_KINDS, TariffForm, TariffImportForm
from billing.models import PracticeTariff
from billing.services import TariffInput, tariff_set, tariffs_import
from core.access.policy import PracticeAction, decide_practice
from core.access.services import require_practice
from core.accounts.models import Person
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view


def _day(request: PracticeRequest) -> date:
    raw = request.GET.get("jour", "")
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError as error:
        raise Http404(_("Not a date.")) from error


@practice_view
def schedule(request: PracticeRequest) -> HttpResponse:
    """Every tariff in force on a day, the practice's own marked: printable."""
    if not decide_practice(request.actor, PracticeAction.VIEW_SETTINGS, request.practice.pk):
        raise PermissionDenied
    day = _day(request)
    rows = fees.tariffs_valid_on(
        day, practice_id=request.practice.pk, country=request.practice.country
    )
    professions = dict(Person.Profession.choices)
    kinds = dict(TARIFF_KINDS)
    lines = [
        {
            "tariff": row,
            "own": isinstance(row, PracticeTariff),
            "profession": professions.get(row.profession, ""),
            "kind": kinds.get(row.kind, row.kind),
        }
        for row in rows
    ]
    may_manage = decide_practice(
        request.actor, PracticeAction.MANAGE_FEE_SCHEDULE, request.practice.pk
    ).allowed
    return render(
        request,
        "billing/tariffs.html",
        {"lines": lines, "day": day, "may_manage": may_manage},
    )


def _require_manage(request: PracticeRequest, target: str) -> None:
    require_practice(  # a refusal is audited, then 403
        request.actor, PracticeAction.MANAGE_FEE_SCHEDULE, request.practice.pk, target=target
    )


@practice_view
@require_http_methods(["GET", "POST"])
def tariff_new(request: PracticeRequest) -> HttpResponse:
    """A dated tariff: a new version from its first day (or the correction of a version
    nothing was billed at). ``?code=`` fills the form from the tariff in force today."""
    _require_manage(request, "tariffs:new")
    country = request.practice.country
    initial: dict[str, object] = {"valid_from": timezone.localdate()}
    code = request.GET.get("code", "")
    if request.method == "GET" and code:
        current = fees.tariff_on(
            code,
            timezone.localdate(),
            practice_id=request.practice.pk,
            country=country,
            profession=request.GET.get("profession", ""),
        )
        if current is not None:
            initial.update(
                nomenclature=current.nomenclature,
                code=current.code,
                label=current.label,
                kind=current.kind,
                profession=current.profession,
                amount=current.amount,
                amo_rate=current.amo_rate,
                source=current.source,
            )
    form = TariffForm(
        request.POST if request.method == "POST" else None, initial=initial, country=country
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = TariffInput(
            nomenclature=data["nomenclature"],
            code=data["code"].strip().upper(),
            label=data["label"],
            kind=data["kind"],
            profession=data.get("profession") or "",
            valid_from=data["valid_from"],
            valid_to=data.get("valid_to"),
            amount=data["amount"],
            amo_rate=data.get("amo_rate") or Decimal("0"),
            source=data.get("source") or "",
        )
        try:
            tariff = tariff_set(actor=request.actor, values=values, country=country)
            messages.success(
                request,
                _("The tariff of %(code)s from %(day)s is saved.")
                % {"code": tariff.code, "day": tariff.valid_from.strftime("%d/%m/%Y")},
            )
            return redirect("billing:tariffs", request.practice.slug)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "billing/tariff_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _content(form: TariffImportForm) -> bytes:
    """The file uploaded, or the one the preview carried."""
    upload = form.cleaned_data.get("file")
    if upload is not None:
        return bytes(upload.read())
    try:
        return base64.b64decode(form.cleaned_data.get("content") or "", validate=True)
    except (binascii.Error, ValueError):
        return b""


@practice_view
@require_http_methods(["GET", "POST"])
def tariff_import(request: PracticeRequest) -> HttpResponse:
    """Upload a CSV file: its tariffs are checked and shown (nothing stored), then
    imported all together once confirmed, or not at all."""
    _require_manage(request, "tariffs:import")
    form = TariffImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    preview = None
    confirm_form = None
    if request.method == "POST" and form.is_valid():
        content = _content(form)
        if not content:
            form.add_error("file", _("Choose the CSV file of tariffs."))
        else:
            apply = bool(form.cleaned_data.get("confirm"))
            try:
                result = tariffs_import(
                    actor=request.actor,
                    content=content,
                    country=request.practice.country,
                    apply=apply,
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                if result.applied:
                    messages.success(
                        request,
                        _("%(count)s tariffs imported.") % {"count": len(result.rows)},
                    )
                    return redirect("billing:tariffs", request.practice.slug)
                preview = result.rows
                confirm_form = TariffImportForm(
                    initial={"content": base64.b64encode(content).decode(), "confirm": True}
                )
                return render(
                    request,
                    "billing/tariff_import.html",
                    {"form": form, "preview": preview, "confirm_form": confirm_form},
                )
    return render(
        request,
        "billing/tariff_import.html",
        {"form": form, "preview": preview, "confirm_form": confirm_form},
        status=400 if form.is_bound else 200,
    )
