"""Loading the fee schedules (data files) and finding the tariff valid on a day.

The price of a code on a day (``tariff_on``): the practice's own tariff valid that day
(billing.models.tariffs), if any, else the shipped act. Within each, a row for the
billing practitioner's profession wins over a row for any profession (IFD and IK have a
value per profession)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from billing.models import Act, CombinationRule, PracticeTariff
from core.prepared import Prepared

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_FILES = {
    "acts": [DATA / "fees_fr.csv", DATA / "fees_fr_paramedical.csv", DATA / "fees_be_inami.csv"],
    "rules": [DATA / "rules_fr.csv"],
}


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


@transaction.atomic
def load_acts(path: Path) -> int:
    """Insert or update every (nomenclature, code, valid_from) row of a fee file."""
    count = 0
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            Act.objects.update_or_create(
                nomenclature=row["nomenclature"],
                code=row["code"],
                profession=row.get("profession") or "",
                valid_from=date.fromisoformat(row["valid_from"]),
                defaults={
                    "country": row["country"],
                    "label": row["label"],
                    "kind": row.get("kind") or Act.Kind.ACT,
                    "valid_to": _date(row.get("valid_to", "")),
                    "amount": Decimal(row["amount"]),
                    "amo_rate": _decimal(row.get("amo_rate")) or Decimal("0"),
                    "min_age": int(row["min_age"]) if row.get("min_age") else None,
                    "max_age": int(row["max_age"]) if row.get("max_age") else None,
                    "key_letter": row.get("key_letter", ""),
                    "coefficient": _decimal(row.get("coefficient")),
                    "refund_regular": _decimal(row.get("refund_regular")),
                    "refund_preferential": _decimal(row.get("refund_preferential")),
                    "source": row.get("source", ""),
                },
            )
            count += 1
    return count


@transaction.atomic
def load_rules(path: Path) -> int:
    count = 0
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            CombinationRule.objects.update_or_create(
                nomenclature=row["nomenclature"],
                code=row["code"],
                kind=row["kind"],
                valid_from=date.fromisoformat(row["valid_from"]),
                defaults={
                    "others": [code for code in row["others"].split(";") if code],
                    "valid_to": _date(row.get("valid_to", "")),
                    "note": row.get("note", ""),
                },
            )
            count += 1
    return count


HEALTH_NOMENCLATURES = ("NGAP", "CCAM", "INAMI")


# Read on every invoice line: compiled once per set of nomenclatures (core.prepared).
_ACTS: dict[tuple[str, ...], Prepared] = {}
_RULES = Prepared(lambda day: CombinationRule.objects.filter(Act.valid_on_q(day)), day=date)


def act_valid_on(
    code: str,
    day: date,
    country: str = "FR",
    nomenclatures: tuple[str, ...] = HEALTH_NOMENCLATURES,
    profession: str = "",
) -> Act | None:
    """The shipped act with this code valid on that day (patients are billed health acts
    only): the row of the practitioner's profession, else the row for any profession."""
    statement = _ACTS.get(nomenclatures)
    if statement is None:
        statement = _ACTS[nomenclatures] = Prepared(
            lambda code, day, country: Act.objects.filter(
                Act.valid_on_q(day), code=code, country=country, nomenclature__in=nomenclatures
            ).order_by("-valid_from")[:4],
            code=str,
            day=date,
            country=str,
        )
    rows = statement.all(code=code.strip().upper(), day=day, country=country)
    found = _for_profession(rows, profession)
    return found if isinstance(found, Act) else None


Tariff = Act | PracticeTariff

# The practice's tariffs valid on a day: one query per invoice, whatever its lines.
_PRACTICE = Prepared(
    lambda practice, day: PracticeTariff.objects.filter(
        Act.valid_on_q(day), practice_id=practice
    ).order_by("-valid_from"),
    practice=int,
    day=date,
)


def _for_profession(rows: Sequence[Tariff], profession: str) -> Tariff | None:
    own = [row for row in rows if row.profession == profession and profession]
    chosen = own or [row for row in rows if not row.profession]
    return chosen[0] if chosen else None


class Schedule:
    """The tariffs one practice bills by on one day (its own first, then the shipped
    ones): built once per invoice, asked once per line."""

    def __init__(self, practice_id: int | None, day: date, country: str = "FR") -> None:
        self.day = day
        self.country = country
        self.own: list[PracticeTariff] = (
            _PRACTICE.all(practice=practice_id, day=day) if practice_id else []
        )

    def tariff(self, code: str, profession: str = "") -> Tariff | None:
        code = code.strip().upper()
        own = [row for row in self.own if row.code == code]
        found = _for_profession(own, profession)
        if found is not None:
            return found
        return act_valid_on(code, self.day, self.country, profession=profession)


def tariff_on(
    code: str, day: date, *, practice_id: int | None, country: str = "FR", profession: str = ""
) -> Tariff | None:
    """The tariff of ``code`` on ``day`` for a practitioner of ``profession``."""
    return Schedule(practice_id, day, country).tariff(code, profession)


def rules_valid_on(day: date) -> list[CombinationRule]:
    return _RULES.all(day=day)


def acts_valid_on(day: date, country: str = "FR") -> list[Act]:
    return list(
        Act.objects.filter(Act.valid_on_q(day), country=country).order_by("nomenclature", "code")
    )


def tariffs_valid_on(day: date, *, practice_id: int | None, country: str = "FR") -> list[Tariff]:
    """Every tariff in force on ``day`` for the practice: the shipped acts, each replaced
    by the practice's own row for the same code and profession; the practice's additions
    too."""
    own = _PRACTICE.all(practice=practice_id, day=day) if practice_id else []
    mine = {(row.code, row.profession) for row in own}
    shipped = [act for act in acts_valid_on(day, country) if (act.code, act.profession) not in mine]
    rows: list[Tariff] = [*shipped, *own]
    return sorted(rows, key=lambda row: (row.nomenclature, row.code, row.profession))
