"""Vital signs as a GP reads them: the last values in French notation, and small plots.

The values are the observations that a consultation records (``services.consultations``,
LOINC-coded, UCUM units such as ``Cel`` or ``mm[Hg]``). Nothing here reads the database:
the chart hands over the observations it read and the policy let through, and gets back
what to show. The plots are drawn on the server as SVG, so they need no JavaScript and
print as they are; each has a title, a description and a table of its values for those
who do not see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from records.models import Observation
from records.services.consultations import VITALS

CODES = {name: vital.code for name, vital in VITALS.items()}
VITAL_CODES = tuple(CODES.values())
PLOTTED = 20  # values per sign kept for the plots (the chart reads no more)

# UCUM units as people write them.
UNITS = {"Cel": "°C", "mm[Hg]": "mmHg", "/min": "/min", "%": "%", "kg": "kg", "cm": "cm"}


def number(value: Decimal | float | int, places: int | None = None) -> str:
    """A number in the notation of the active language (38,2 in French), without the
    zeros that the column's precision adds (38.200 -> 38,2)."""
    return _number(value, places, get_language())


# A chart writes the same few values many times (each point's title, the table, the
# last reading): each is formatted once per language. The cache forgets on a change of
# settings (the tests change the number format).
@lru_cache(maxsize=4096, typed=True)
def _number(value: Decimal | float | int, places: int | None, _language: str | None) -> str:
    value = Decimal(str(value))
    if places is None:
        value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
        exponent = value.as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 0
    else:
        value = value.quantize(Decimal(1).scaleb(-places))
    return formats.number_format(value, decimal_pos=places, use_l10n=True)


@receiver(setting_changed)
def _forget_numbers(**_kwargs: object) -> None:
    _number.cache_clear()


def unit(ucum: str) -> str:
    return UNITS.get(ucum, ucum)


def measure(observation: Observation) -> str:
    """The value with its unit as people write it: "38,2 °C", "72 /min", or the text."""
    if observation.value is None:
        return f"{observation.value_text} {unit(observation.unit)}".strip()
    return f"{number(observation.value)} {unit(observation.unit)}".strip()


@dataclass(frozen=True)
class Reading:
    """One sign's last value, ready to show."""

    label: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    text: str  # the value and the date, for the hover title and the table


@dataclass
class Series:
    name: str
    points: list[Point]
    css: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Plot:
    """A small line plot: one or two series over time, with its text alternative."""

    key: str
    title: str
    description: str
    series: list[Series]
    y_labels: list[tuple[float, str]]  # (y, label) of the axis
    x_labels: list[tuple[float, str]]
    rows: list[tuple[str, str]]  # (date, value), the table for those who do not see it
    width: int = 300
    height: int = 110


@dataclass
class Vitals:
    readings: list[Reading] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.readings)


# Plot geometry: the drawing area inside the SVG's width and height.
LEFT, RIGHT, TOP, BOTTOM = 38, 8, 8, 20


def _scale(values: Sequence[float], least_pad: float = 1.0) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.15, least_pad)
    return lo - pad, hi + pad


def _axis_label(bound: float, span: float) -> str:
    """Whole numbers for a body's measures; decimals for a small lab value (1,02 g/L)."""
    if span >= 10:
        return number(round(bound))
    return number(Decimal(str(round(bound, 2))))


def _days() -> Callable[[datetime], str]:
    """Each moment's date in the current time zone (31/12/2026), each worked out once: a
    plot writes a date in each point's title, its table and its axis."""
    zone = timezone.get_current_timezone()
    known: dict[datetime, str] = {}

    def day(moment: datetime) -> str:
        text = known.get(moment)
        if text is None:
            text = known[moment] = moment.astimezone(zone).strftime("%d/%m/%Y")
        return text

    return day


def plot(
    key: str,
    title: str,
    lines: list[tuple[str, str, list[tuple[datetime, Decimal]]]],
    unit_: str,
    *,
    least_pad: float = 1.0,
) -> Plot | None:
    """A plot of ``lines`` (name, css class, [(when, value)] oldest first); None without
    values. ``least_pad``: the least room above and below the values, in their unit (a
    degree or a kilo for vitals; a lab value asks for less)."""
    lines = [line for line in lines if line[2]]
    if not lines:
        return None
    _day = _days()
    width, height = 300, 110
    moments = [when for _name, _css, values in lines for when, _value in values]
    values = [float(value) for _name, _css, pairs in lines for _when, value in pairs]
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds() or 1.0
    low, high = _scale(values, least_pad)
    inner_w, inner_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def x_of(when: datetime) -> float:
        if first == last:
            return LEFT + inner_w / 2
        return LEFT + inner_w * (when - first).total_seconds() / span

    def y_of(value: float) -> float:
        return TOP + inner_h * (1 - (value - low) / (high - low))

    series = [
        Series(
            name,
            [
                Point(x_of(when), y_of(float(value)), f"{number(value)} {unit_}, {_day(when)}")
                for when, value in pairs
            ],
            css,
        )
        for name, css, pairs in lines
    ]
    # The scale's bounds, not the extreme values: two close values would print their
    # labels on top of each other.
    y_labels = [(y_of(bound), _axis_label(bound, high - low)) for bound in (low, high)]
    x_labels = [(x_of(first), _day(first))]
    if last != first:
        x_labels.append((x_of(last), _day(last)))
    rows = _table_rows(lines, unit_, _day)
    count = len(rows)
    description = ngettext(
        "%(count)s measure, on %(first)s: %(last_value)s.",
        "%(count)s measures from %(first)s to %(last)s; the last: %(last_value)s.",
        count,
    ) % {
        "count": count,
        "first": _day(first),
        "last": _day(last),
        "last_value": rows[-1][1],
    }
    return Plot(key, title, description, series, y_labels, x_labels, rows, width, height)


def _table_rows(
    lines: list[tuple[str, str, list[tuple[datetime, Decimal]]]],
    unit_: str,
    _day: Callable[[datetime], str],
) -> list[tuple[str, str]]:
    """One row per date: one value, or systolic/diastolic side by side."""
    by_date: dict[datetime, list[str]] = defaultdict(list)
    for _name, _css, pairs in lines:
        for when, value in pairs:
            by_date[when].append(number(value))
    return [(_day(when), "/".join(parts) + f" {unit_}") for when, parts in sorted(by_date.items())]


def vitals_from(observations: Iterable[Observation]) -> Vitals:
    """The last value of each sign and the plots, from observations of any order."""
    by_code: dict[str, list[Observation]] = defaultdict(list)
    for observation in observations:
        if observation.value is not None:
            by_code[observation.code].append(observation)
    for values in by_code.values():
        values.sort(key=lambda o: o.effective_at)  # oldest first
    last = {code: values[-1] for code, values in by_code.items()}
    readings: list[Reading] = []

    def add(label: str, name: str) -> None:
        found = last.get(CODES[name])
        if found is not None:
            readings.append(Reading(label, measure(found), found.effective_at))

    add(_("Weight"), "weight")
    add(_("Height"), "height")
    weight, height = last.get(CODES["weight"]), last.get(CODES["height"])
    if weight is not None and height is not None and height.value and weight.value:
        metres = Decimal(height.value) / 100
        bmi = Decimal(weight.value) / (metres * metres)
        at = max(weight.effective_at, height.effective_at)
        readings.append(Reading(_("BMI"), f"{number(bmi, 1)} kg/m²", at))
    systolic, diastolic = last.get(CODES["systolic"]), last.get(CODES["diastolic"])
    if systolic is not None and diastolic is not None:
        text = f"{number(systolic.value or 0)}/{number(diastolic.value or 0)} mmHg"
        readings.append(Reading(_("Blood pressure"), text, systolic.effective_at))
    add(_("Pulse"), "heart_rate")
    add(_("Temperature"), "temperature")
    add(_("SpO₂"), "spo2")

    def pairs(name: str) -> list[tuple[datetime, Decimal]]:
        return [(o.effective_at, o.value) for o in by_code.get(CODES[name], []) if o.value]

    plots = [
        plot("weight", _("Weight over time"), [(_("Weight"), "weight", pairs("weight"))], "kg"),
        plot(
            "bp",
            _("Blood pressure over time"),
            [
                (_("Systolic"), "systolic", pairs("systolic")),
                (_("Diastolic"), "diastolic", pairs("diastolic")),
            ],
            "mmHg",
        ),
    ]
    return Vitals(readings, [p for p in plots if p is not None])
