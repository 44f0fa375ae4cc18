"""REST API of the agenda: the same selectors and services as the desk and the day
pages, so every call is judged by the access policy and audited the same way.

Errors keep the API's one shape (core/api.py); two are the agenda's own:

- a time already taken answers 409, with the message and the next free slots
  (``error.next_slots``), so a client can offer them at once;
- an appointment, absence or feed that is not this practice's answers 404, whatever the
  service calls it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agenda import selectors, services
from agenda import serializers as io
from agenda.selectors import AppointmentRow
from agenda.services import Booking, HoursSpan, SlotTaken
from agenda.services.common import field_error
from core.api import CarnetAPIView, PracticeAPIMixin
from core.openapi import ERROR_SCHEMA
from records.selectors.agenda import AgendaPatient

TAKEN = OpenApiResponse(
    {
        **ERROR_SCHEMA,
        "properties": {
            "error": {
                **ERROR_SCHEMA["properties"]["error"],
                "properties": {
                    **ERROR_SCHEMA["properties"]["error"]["properties"],
                    "next_slots": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    },
    description="The time is taken: the message and the next free slots.",
)


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _is_unknown(error: ValidationError) -> bool:
    """A service's "no such …" (code ``unknown``, not about a field): a 404 here."""
    return not hasattr(error, "error_dict") and any(e.code == "unknown" for e in error.error_list)


class AgendaApi(PracticeAPIMixin, CarnetAPIView):
    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, SlotTaken):
            message = exc.message_dict["starts_at"][0]
            body = {
                "code": "taken",
                "message": message,
                "status": status.HTTP_409_CONFLICT,
                "fields": {"starts_at": [message]},
                "next_slots": io.SlotOutput(exc.next_slots, many=True).data,
            }
            return Response({"error": body}, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, ValidationError) and _is_unknown(exc):
            exc = Http404(exc.messages[0])
        return super().handle_exception(exc)

    def practitioner_or_404(self, practitioner_id: int) -> int:
        known = {person.pk for person in selectors.practitioners(self.practice.pk)}
        if practitioner_id not in known:
            raise Http404(_("No such practitioner in this practice."))
        return practitioner_id

    def appointment(
        self,
        appointment_id: int,
        code: int = status.HTTP_200_OK,
        known: AgendaPatient | None = None,
    ) -> Response:
        row = selectors.appointment_read(self.actor, appointment_id, known=known)
        return Response(io.AppointmentOutput(row).data, status=code)

    @staticmethod
    def rows(rows: list[AppointmentRow]) -> Response:
        return Response(io.AppointmentOutput(rows, many=True).data)


# --- the agenda's frame ------------------------------------------------------------------------


class TypesApi(AgendaApi):
    @extend_schema(responses=io.TypeOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(io.TypeOutput(selectors.appointment_types(), many=True).data)


class SitesApi(AgendaApi):
    @extend_schema(responses=io.SiteOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(io.SiteOutput(selectors.sites(), many=True).data)


class PractitionersApi(AgendaApi):
    @extend_schema(responses=io.PractitionerOutput(many=True))
    def get(self, request: Request) -> Response:
        people = selectors.practitioners(self.practice.pk)
        return Response(io.PractitionerOutput(people, many=True).data)


class SlotsApi(AgendaApi):
    @extend_schema(parameters=[io.SlotQuery], responses=io.SlotOutput(many=True))
    def get(self, request: Request) -> Response:
        query = _valid(
            io.SlotQuery,
            {
                **request.query_params.dict(),
                "practitioner": request.query_params.getlist("practitioner"),
            },
        )
        for practitioner_id in query["practitioner"]:
            self.practitioner_or_404(practitioner_id)
        kinds = {kind.pk: kind for kind in selectors.appointment_types()}
        kind = kinds.get(query["type"])
        if kind is None:
            raise field_error(
                "type", _("Choose a type of appointment of this practice."), "unknown_type"
            )
        # Free time is in the future, whatever was asked.
        after = max(query.get("after") or timezone.now(), timezone.now())
        slots = selectors.free_slots(
            query["practitioner"], kind.minutes, after=after, limit=query["limit"]
        )
        return Response(io.SlotOutput(slots, many=True).data)


# --- appointments: reading ---------------------------------------------------------------------


class PractitionerAppointmentsApi(AgendaApi):
    @extend_schema(parameters=[io.RangeQuery], responses=io.AppointmentOutput(many=True))
    def get(self, request: Request, practitioner_id: int) -> Response:
        query = _valid(io.RangeQuery, request.query_params.dict())
        self.practitioner_or_404(practitioner_id)
        return self.rows(
            selectors.practitioner_days(self.actor, practitioner_id, query["start"], query["days"])
        )


class AppointmentApi(AgendaApi):
    @extend_schema(responses=io.AppointmentOutput)
    def get(self, request: Request, appointment_id: int) -> Response:
        return self.appointment(appointment_id)


class WaitingRoomApi(AgendaApi):
    @extend_schema(parameters=[io.WaitingQuery], responses=io.AppointmentOutput(many=True))
    def get(self, request: Request) -> Response:
        query = _valid(io.WaitingQuery, request.query_params.dict())
        practitioner_id = query.get("practitioner")
        if practitioner_id is not None:
            self.practitioner_or_404(practitioner_id)
        return self.rows(selectors.waiting_room(self.actor, practitioner_id=practitioner_id))


# --- appointments: booking ---------------------------------------------------------------------


def _booking(
    values: dict[str, Any], patient_id: int | None, patient: AgendaPatient | None = None
) -> Booking:
    return Booking(
        patient=patient,
        practitioner_id=values["practitioner"],
        type_id=values["type"],
        starts_at=values["starts_at"],
        patient_id=patient_id,
        caller_name=values.get("caller_name", ""),
        caller_phone=values.get("caller_phone", ""),
        channel=values["channel"],
        reason=values["reason"],
        reason_is_administrative=values["reason_is_administrative"],
        minutes=values.get("minutes"),
        override_hours=values["override_hours"],
    )


class PatientAppointmentsApi(AgendaApi):
    @extend_schema(responses=io.AppointmentOutput(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        selectors.patient_for_reading(self.actor, patient_id)
        return self.rows(selectors.patient_appointments(self.actor, patient_id))

    @extend_schema(request=io.BookingInput, responses={201: io.AppointmentOutput, 409: TAKEN})
    def post(self, request: Request, patient_id: int) -> Response:
        values = _valid(io.BookingInput, request.data)
        patient = selectors.patient_for_reading(self.actor, patient_id)
        # One row written, under its own savepoint (a taken slot leaves nothing behind):
        # no savepoint around it (the request's transaction holds the audit event).
        made = services.appointment_book(
            actor=self.actor, booking=_booking(values, patient_id, patient)
        )
        return self.appointment(made.pk, status.HTTP_201_CREATED, known=patient)


class CallerAppointmentsApi(AgendaApi):
    """A caller not registered yet, booked by name (and a phone, if they give one)."""

    @extend_schema(request=io.CallerBookingInput, responses={201: io.AppointmentOutput, 409: TAKEN})
    def post(self, request: Request) -> Response:
        values = _valid(io.CallerBookingInput, request.data)
        with transaction.atomic():
            made = services.appointment_book(actor=self.actor, booking=_booking(values, None))
        return self.appointment(made.pk, status.HTTP_201_CREATED)


class SeriesApi(AgendaApi):
    @extend_schema(request=io.SeriesInput, responses={201: io.SeriesOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        values = _valid(io.SeriesInput, request.data)
        selectors.patient_for_reading(self.actor, patient_id)
        with transaction.atomic():
            series = services.series_book(
                actor=self.actor,
                booking=_booking(values, patient_id),
                every_weeks=values["every_weeks"],
                count=values["count"],
            )
        body = {
            "id": series.pk,
            "every_weeks": series.every_weeks,
            "count": series.count,
            "appointments": selectors.series_appointments(self.actor, series.pk),
        }
        return Response(io.SeriesOutput(body).data, status=status.HTTP_201_CREATED)


class WalkInApi(AgendaApi):
    @extend_schema(request=io.WalkInInput, responses={201: io.AppointmentOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        values = _valid(io.WalkInInput, request.data)
        selectors.patient_for_reading(self.actor, patient_id)
        with transaction.atomic():
            made = services.walk_in(
                actor=self.actor,
                patient_id=patient_id,
                type_id=values["type"],
                practitioner_id=values.get("practitioner"),
                reason=values["reason"],
            )
        return self.appointment(made.pk, status.HTTP_201_CREATED)


# --- appointments: what happens to them -----------------------------------------------------


class MoveApi(AgendaApi):
    @extend_schema(request=io.MoveInput, responses={200: io.AppointmentOutput, 409: TAKEN})
    def post(self, request: Request, appointment_id: int) -> Response:
        values = _valid(io.MoveInput, request.data)
        with transaction.atomic():
            services.appointment_move(
                actor=self.actor,
                appointment_id=appointment_id,
                starts_at=values["starts_at"],
                practitioner_id=values.get("practitioner"),
                override_hours=values["override_hours"],
            )
        return self.appointment(appointment_id)


class CancelApi(AgendaApi):
    @extend_schema(request=io.CancelInput, responses=io.AppointmentOutput)
    def post(self, request: Request, appointment_id: int) -> Response:
        values = _valid(io.CancelInput, request.data)
        with transaction.atomic():
            services.appointment_cancel(
                actor=self.actor, appointment_id=appointment_id, reason=values["reason"]
            )
        return self.appointment(appointment_id)


class NoShowApi(AgendaApi):
    @extend_schema(request=None, responses=io.AppointmentOutput)
    def post(self, request: Request, appointment_id: int) -> Response:
        with transaction.atomic():
            services.appointment_no_show(actor=self.actor, appointment_id=appointment_id)
        return self.appointment(appointment_id)


class CheckInApi(AgendaApi):
    @extend_schema(request=io.CheckInInput, responses=io.AppointmentOutput)
    def post(self, request: Request, appointment_id: int) -> Response:
        values = _valid(io.CheckInInput, request.data)
        with transaction.atomic():
            services.check_in(
                actor=self.actor, appointment_id=appointment_id, patient_id=values.get("patient")
            )
        return self.appointment(appointment_id)


class StartApi(AgendaApi):
    @extend_schema(request=None, responses=io.AppointmentOutput)
    def post(self, request: Request, appointment_id: int) -> Response:
        with transaction.atomic():
            services.start(actor=self.actor, appointment_id=appointment_id)
        return self.appointment(appointment_id)


class FinishApi(AgendaApi):
    @extend_schema(request=None, responses=io.AppointmentOutput)
    def post(self, request: Request, appointment_id: int) -> Response:
        with transaction.atomic():
            services.finish(actor=self.actor, appointment_id=appointment_id)
        return self.appointment(appointment_id)


# --- schedules ---------------------------------------------------------------------------------


class HoursApi(AgendaApi):
    def hours(self, practitioner_id: int) -> Response:
        spans = selectors.hours_of(practitioner_id)
        return Response(io.HoursSpanIO(spans, many=True).data)

    @extend_schema(responses=io.HoursSpanIO(many=True))
    def get(self, request: Request, practitioner_id: int) -> Response:
        return self.hours(self.practitioner_or_404(practitioner_id))

    @extend_schema(request=io.HoursInput, responses=io.HoursSpanIO(many=True))
    def put(self, request: Request, practitioner_id: int) -> Response:
        values = _valid(io.HoursInput, request.data)
        self.practitioner_or_404(practitioner_id)
        spans = [
            HoursSpan(
                weekday=span["weekday"],
                site_id=span["site_id"],
                starts=span["starts"],
                ends=span["ends"],
            )
            for span in values["spans"]
        ]
        with transaction.atomic():
            services.hours_set(actor=self.actor, practitioner_id=practitioner_id, spans=spans)
        return self.hours(practitioner_id)


class AbsencesApi(AgendaApi):
    @extend_schema(parameters=[io.AbsenceQuery], responses=io.AbsenceOutput(many=True))
    def get(self, request: Request) -> Response:
        query = _valid(io.AbsenceQuery, request.query_params.dict())
        practitioner_id = query.get("practitioner")
        if practitioner_id is not None:
            self.practitioner_or_404(practitioner_id)
        found = selectors.absences_from(
            query.get("start") or timezone.localdate(), practitioner_id=practitioner_id
        )
        return Response(io.AbsenceOutput(found, many=True).data)

    @extend_schema(request=io.AbsenceInput, responses={201: io.AbsenceAddedOutput})
    def post(self, request: Request) -> Response:
        values = _valid(io.AbsenceInput, request.data)
        with transaction.atomic():
            absence, booked = services.absence_add(
                actor=self.actor,
                practitioner_id=values["practitioner"],
                starts_at=values["starts_at"],
                ends_at=values["ends_at"],
                label=values["label"],
            )
        body = io.AbsenceOutput(absence).data
        # The patients to call are shown as any list is: judged and audited one by one.
        rows = selectors.rows_for(self.actor, booked, target=f"absence:{absence.pk}")
        body["appointments"] = io.AppointmentOutput(rows, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


class AbsenceApi(AgendaApi):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, absence_id: int) -> Response:
        with transaction.atomic():
            services.absence_remove(actor=self.actor, absence_id=absence_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HolidaysApi(AgendaApi):
    @extend_schema(request=io.HolidaysInput, responses={201: io.HolidaysOutput})
    def post(self, request: Request) -> Response:
        values = _valid(io.HolidaysInput, request.data)
        with transaction.atomic():
            added = services.holidays_add(actor=self.actor, year=values["year"])
        return Response({"added": added}, status=status.HTTP_201_CREATED)


# --- calendar feeds ----------------------------------------------------------------------------


class FeedsApi(AgendaApi):
    @extend_schema(responses=io.FeedOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(io.FeedOutput(selectors.feeds_of(self.actor), many=True).data)

    @extend_schema(request=io.FeedInput, responses={201: io.FeedCreatedOutput})
    def post(self, request: Request) -> Response:
        values = _valid(io.FeedInput, request.data)
        with transaction.atomic():
            feed, token = services.feed_create(actor=self.actor, with_names=values["with_names"])
        body = dict(io.FeedOutput(feed).data)
        body["token"] = token
        body["url"] = request.build_absolute_uri(reverse("agenda-feed", args=[token]))
        return Response(body, status=status.HTTP_201_CREATED)


class FeedApi(AgendaApi):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, feed_id: int) -> Response:
        with transaction.atomic():
            services.feed_revoke(actor=self.actor, feed_id=feed_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
