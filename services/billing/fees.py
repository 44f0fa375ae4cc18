"""Loading the fee schedules (data files) and finding the act valid on a day."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from billing.models import Act, CombinationRule
from core.prepared import Prepared

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_FILES = {
    "acts": [DATA / "fees_fr.csv", DATA / "fees_be_inami.csv"],
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
    code: str, day: date, country: str = "FR", nomenclatures: tuple[str, ...] = HEALTH_NOMENCLATURES
) -> Act | None:
    """The act with this code valid on that day (patients are billed health acts only)."""
    statement = _ACTS.get(nomenclatures)
    if statement is None:
        statement = _ACTS[nomenclatures] = Prepared(
            lambda code, day, country: Act.objects.filter(
                Act.valid_on_q(day), code=code, country=country, nomenclature__in=nomenclatures
            ).order_by("-valid_from")[:1],
            code=str,
            day=date,
            country=str,
        )
    return statement.first(code=code.strip().upper(), day=day, country=country)


def rules_valid_on(day: date) -> list[CombinationRule]:
    return _RULES.all(day=day)


def acts_valid_on(day: date, country: str = "FR") -> list[Act]:
    return list(
        Act.objects.filter(Act.valid_on_q(day), country=country).order_by("nomenclature", "code")
    )
