"""The practice's own fee schedule: adding a dated tariff, importing a file of them.

A tariff is a version from its first day (``valid_from``). Adding one closes the
version in force the day before and, when a later version exists, ends the new one the
day before that. What was billed is never changed: a new version may not start on or
before a day on which an issued invoice of the practice billed that code (issued
invoices keep their stored prices whatever happens; the refusal keeps the schedule
telling the truth about what each day was billed at). To correct a day already billed,
credit the invoice and bill again.

An import is all or nothing: every line is checked (its number given with each error)
and applied in one transaction; ``apply=False`` runs the same checks and writes, then
rolls them back, for the preview shown before the administrator confirms.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing.models import Act, InvoiceLine, PracticeTariff
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.accounts.models import Person
from core.audit.services import record_event

CODE = re.compile(r"^[A-Z0-9.]{1,16}$")
NOMENCLATURES = {"FR": ("NGAP", "CCAM"), "BE": ("INAMI",)}
MAX_AMOUNT = Decimal("100000")
MAX_ROWS = 2000
BILLED_CONFLICT = gettext_noop(
    "This tariff was used by an issued invoice: add a new version from a later day."
)
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2100, 12, 31)
MAX_BYTES = 1_000_000
REQUIRED_COLUMNS = ("nomenclature", "code", "label", "valid_from", "amount")
# The columns of the shipped files (fees_fr.csv; fees_be_inami.csv adds the last ones).
OPTIONAL_COLUMNS = (
    "country",
    "kind",
    "valid_to",
    "amo_rate",
    "min_age",
    "max_age",
    "source",
    "profession",
    "refund_regular",
    "refund_preferential",
    "key_letter",  # read, not kept: a key letter's row is its own code
    "coefficient",
)


@dataclass(frozen=True)
class TariffInput:
    nomenclature: str
    code: str
    label: str
    valid_from: date
    amount: Decimal
    kind: str = Act.Kind.ACT
    valid_to: date | None = None
    amo_rate: Decimal = Decimal("70")
    profession: str = ""
    min_age: int | None = None
    max_age: int | None = None
    source: str = ""
    refund_regular: Decimal | None = None
    refund_preferential: Decimal | None = None


@dataclass
class ImportResult:
    """What an import did (or would do): the rows with their file line numbers."""

    rows: list[tuple[int, TariffInput]] = field(default_factory=list)
    applied: bool = False


def tariff_problems(values: TariffInput, *, country: str) -> dict[str, list[str]]:
    """What is wrong with one tariff, field by field (no database read)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    allowed = NOMENCLATURES.get(country.upper(), ("NGAP", "CCAM"))
    if values.nomenclature not in allowed:
        add(
            "nomenclature",
            _("The nomenclature is one of %(allowed)s for this practice.")
            % {"allowed": ", ".join(allowed)},
        )
    if not CODE.match(values.code):
        add("code", _("A code is 1 to 16 capital letters, digits or dots, e.g. AMI or IFD."))
    if not values.label.strip() or len(values.label) > 300:
        add("label", _("Give the label of the act (300 characters at most)."))
    if values.kind not in Act.Kind.values:
        add(
            "kind",
            _("The kind is one of %(kinds)s.") % {"kinds": ", ".join(Act.Kind.values)},
        )
    if values.profession and values.profession not in Person.Profession.values:
        add(
            "profession",
            _("The profession is one of %(professions)s, or empty for any.")
            % {"professions": ", ".join(Person.Profession.values)},
        )
    if not Decimal("0") <= values.amount < MAX_AMOUNT:
        add("amount", _("The amount is 0 to 99999.99 €."))
    if not Decimal("0") <= values.amo_rate <= Decimal("100"):
        add("amo_rate", _("The reimbursement rate is 0 to 100 %."))
    for name in ("valid_from", "valid_to"):
        day = getattr(values, name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            add(name, _("A date between 1990 and 2100."))
    if values.valid_to is not None and values.valid_to < values.valid_from:
        add("valid_to", _("The end of validity cannot be before its start."))
    for name in ("min_age", "max_age"):
        age = getattr(values, name)
        if age is not None and not 0 <= age <= 130:
            add(name, _("An age is 0 to 130 years."))
    if len(values.source) > 200:
        add("source", _("The source is 200 characters at most."))
    return errors


def _last_billed(practice_id: int, code: str, since: date) -> date | None:
    """The last day on or after ``since`` on which an issued invoice billed ``code``."""
    found = InvoiceLine.objects.filter(
        practice_id=practice_id,
        code=code,
        invoice__status="issued",
        invoice__service_date__gte=since,
    ).aggregate(last=Max("invoice__service_date"))
    last: date | None = found["last"]
    return last


def _apply(actor: Actor, values: TariffInput) -> PracticeTariff:
    """Store one checked tariff as a version of the practice's schedule."""
    practice_id = actor.practice_id
    if practice_id is None:
        raise ValidationError(_("No practice selected."))
    versions = list(
        PracticeTariff.objects.select_for_update()
        .filter(
            practice_id=practice_id,
            nomenclature=values.nomenclature,
            code=values.code,
            profession=values.profession,
        )
        .order_by("valid_from")
    )
    last = _last_billed(practice_id, values.code, values.valid_from)
    if last is not None:
        raise ValidationError(
            {
                "valid_from": _(
                    "%(code)s was billed on an issued invoice on %(day)s: a new tariff can"
                    " start only after that day (issued invoices keep their price; to"
                    " correct one, issue a credit note and bill again)."
                )
                % {"code": values.code, "day": last.strftime("%d/%m/%Y")}
            }
        )
    data = {name.name: getattr(values, name.name) for name in fields(TariffInput)}
    same = next((row for row in versions if row.valid_from == values.valid_from), None)
    later = [row for row in versions if row.valid_from > values.valid_from]
    if later and (values.valid_to is None or values.valid_to >= later[0].valid_from):
        if values.valid_to is not None:
            raise ValidationError(
                {
                    "valid_to": _(
                        "A tariff of %(code)s starts on %(day)s: this one must end before."
                    )
                    % {"code": values.code, "day": later[0].valid_from.strftime("%d/%m/%Y")}
                }
            )
        data["valid_to"] = later[0].valid_from - timedelta(days=1)
    if same is not None:  # nothing billed at it since it started: corrected in place
        for name, value in data.items():
            setattr(same, name, value)
        same.recorded_by_id = actor.person_id
        same.save()
        return same
    for row in versions:  # the version in force the day before ends that day
        if row.valid_from < values.valid_from and (
            row.valid_to is None or row.valid_to >= values.valid_from
        ):
            row.valid_to = values.valid_from - timedelta(days=1)
            row.save(update_fields=["valid_to"])
    return PracticeTariff.objects.create(
        practice_id=practice_id, recorded_by_id=actor.person_id, **data
    )


def tariff_set(*, actor: Actor, values: TariffInput, country: str) -> PracticeTariff:
    """Add (or correct, when nothing was billed at it) one dated tariff. A refusal by
    the policy is audited outside the write's transaction, so that it stays."""
    practice_id = actor.practice_id or 0
    require_practice(
        actor, PracticeAction.MANAGE_FEE_SCHEDULE, practice_id, target=f"tariff:{values.code}"
    )
    errors = tariff_problems(values, country=country)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return _set(actor, values)
    except IntegrityError as error:  # the database's own guard (migration 0009)
        raise ValidationError({"valid_from": _(BILLED_CONFLICT)}) from error


def _set(actor: Actor, values: TariffInput) -> PracticeTariff:
    tariff = _apply(actor, values)
    record_event(
        "fee_schedule.set",
        actor=actor,
        target=f"tariff:{tariff.pk}",
        details={
            "code": tariff.code,
            "profession": tariff.profession,
            "valid_from": tariff.valid_from.isoformat(),
            "amount": str(tariff.amount),
        },
    )
    return tariff


def _text_of(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than 1 MB.")})
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            {"file": _("The file is not UTF-8 text: save it as CSV UTF-8.")}
        ) from error


def _decimal(raw: str, comma: bool) -> Decimal:
    value = raw.strip().replace(",", ".") if comma else raw.strip()
    number = Decimal(value)
    if not number.is_finite() or number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidOperation(value)
    return number


def _row_input(row: dict[str, str], comma: bool) -> TariffInput:
    """One CSV row as a tariff; ValueError/InvalidOperation on a malformed value."""

    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    def optional_decimal(name: str) -> Decimal | None:
        return _decimal(text(name), comma) if text(name) else None

    def optional_int(name: str) -> int | None:
        return int(text(name)) if text(name) else None

    return TariffInput(
        nomenclature=text("nomenclature").upper(),
        code=text("code").upper(),
        label=text("label"),
        valid_from=date.fromisoformat(text("valid_from")),
        valid_to=date.fromisoformat(text("valid_to")) if text("valid_to") else None,
        amount=_decimal(text("amount"), comma),
        kind=text("kind") or Act.Kind.ACT,
        amo_rate=optional_decimal("amo_rate") or Decimal("0"),
        profession=text("profession"),
        min_age=optional_int("min_age"),
        max_age=optional_int("max_age"),
        source=text("source"),
        refund_regular=optional_decimal("refund_regular"),
        refund_preferential=optional_decimal("refund_preferential"),
    )


def _line_error(number: int, message: Any) -> str:
    return _("Line %(line)s: %(message)s") % {"line": number, "message": message}


def tariffs_read(content: bytes, *, country: str) -> list[tuple[int, TariffInput]]:
    """Parse and check a CSV file of tariffs (the columns of fees_fr.csv). Raises one
    ValidationError on ``file`` listing every problem with its line number."""
    text = _text_of(content)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    problems: list[str] = []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
    if missing:
        problems.append(
            _line_error(1, _("missing columns: %(names)s.") % {"names": ", ".join(missing)})
        )
    if unknown:
        problems.append(
            _line_error(1, _("unknown columns: %(names)s.") % {"names": ", ".join(unknown)})
        )
    if problems:
        raise ValidationError({"file": problems})
    reader.fieldnames = header
    rows: list[tuple[int, TariffInput]] = []
    seen: dict[tuple[str, str, str, date], int] = {}
    try:
        for row in reader:
            number = reader.line_num
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    {"file": _("At most %(max)s tariffs per file.") % {"max": MAX_ROWS}}
                )
            if None in row:
                problems.append(_line_error(number, _("more values than columns.")))
                continue
            if not any((value or "").strip() for value in row.values()):
                continue  # a blank line
            row_country = (row.get("country") or "").strip().upper()
            if row_country and row_country != country.upper():
                problems.append(
                    _line_error(
                        number,
                        _("the country is %(country)s: this practice bills in %(mine)s.")
                        % {"country": row_country, "mine": country.upper()},
                    )
                )
                continue
            if country.upper() == "FR" and not (row.get("amo_rate") or "").strip():
                problems.append(
                    _line_error(
                        number, _("give the rate the Assurance Maladie reimburses (amo_rate).")
                    )
                )
                continue
            try:
                values = _row_input(row, comma=delimiter == ";")
            except (ValueError, InvalidOperation):
                problems.append(
                    _line_error(
                        number,
                        _(
                            "a date is YYYY-MM-DD, an amount a number with at most two"
                            " decimals, an age a whole number."
                        ),
                    )
                )
                continue
            for name, messages in tariff_problems(values, country=country).items():
                problems.extend(_line_error(number, f"{name}: {message}") for message in messages)
            key = (values.nomenclature, values.code, values.profession, values.valid_from)
            if key in seen:
                problems.append(
                    _line_error(
                        number,
                        _("the same tariff is on line %(other)s.") % {"other": seen[key]},
                    )
                )
            seen[key] = number
            rows.append((number, values))
    except csv.Error as error:
        raise ValidationError({"file": _("The file is not a readable CSV file.")}) from error
    if not rows and not problems:
        problems.append(_("The file has no tariff."))
    if problems:
        raise ValidationError({"file": problems})
    return rows


class _Preview(Exception):
    """Rolls back the writes of a preview."""


def tariffs_import(*, actor: Actor, content: bytes, country: str, apply: bool) -> ImportResult:
    """Check (``apply=False``: the preview) or store every tariff of a CSV file, all or
    nothing. Each refusal names its line."""
    require_practice(
        actor, PracticeAction.MANAGE_FEE_SCHEDULE, actor.practice_id or 0, target="tariffs:import"
    )
    rows = tariffs_read(content, country=country)
    # Oldest first, so that a file holding two versions of a code closes the first.
    ordered = sorted(rows, key=lambda item: (item[1].code, item[1].valid_from))
    result = ImportResult(rows=rows)
    try:
        with transaction.atomic():
            problems: list[str] = []
            for number, values in ordered:
                try:
                    with transaction.atomic():
                        _apply(actor, values)
                except ValidationError as error:
                    problems.extend(_line_error(number, message) for message in error.messages)
                except IntegrityError:  # the database's own guard (migration 0009)
                    problems.append(_line_error(number, _(BILLED_CONFLICT)))
            if problems:
                raise ValidationError({"file": problems})
            if not apply:
                raise _Preview
            record_event(
                "fee_schedule.import",
                actor=actor,
                target="tariffs:import",
                details={
                    "rows": len(rows),
                    "sha256": hashlib.sha256(content).hexdigest(),
                },
            )
            result.applied = True
    except _Preview:
        pass
    return result
