"""What laboratory intake may know of the record: which patients of the practice carry
an identity — to file a result only on a certain match — and who they are, for a person
choosing in the matching queue (identity only, never a clinical value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import CharField, F, Func, Q, Value, Window
from django.db.models.functions import Lower, RowNumber
from django.http import Http404
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category
from core.prepared import Prepared
from records import access as records_access
from records.models import Document, Observation, Patient
from records.models.clinical import EntryStatus
from records.selectors.patients import patient_with_access_and
from records.vitals import Plot, measure, number, plot, unit


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    birth_date: date | None
    sex: str
    gp_id: int | None
    has_nir: bool


def _folded(expression: object) -> Func:
    return Lower(Func(expression, function="carnet_unaccent", output_field=CharField()))


def fold(text: str) -> str:
    """The fold the database applies (lower case, no accents), for Python-side checks."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _candidate(patient: Patient) -> Candidate:
    return Candidate(
        id=patient.pk,
        name=patient.display_name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        gp_id=patient.gp_id,
        has_nir=bool(patient.nir),
    )


def patients_with_identity(
    *, family: str, given: str, birth_date: date | None, nir: str
) -> tuple[list[Candidate], list[Candidate]]:
    """(by identity, by NIR): the patients whose birth date is ``birth_date`` and whose
    birth or used name is ``family`` and first given name the first of ``given``, case
    and accents aside; and the patients whose NIR starts with the 13 digits ``nir``."""
    by_identity: list[Candidate] = []
    if family.strip() and birth_date is not None:
        first_given = fold(given).replace("-", " ").split(" ")[0] if given.strip() else ""
        family_folded = Value(fold(family), output_field=CharField())
        found = (
            Patient.objects.filter(birth_date=birth_date)
            .alias(
                _birth=_folded(F("birth_name")),
                _used=_folded(F("used_name")),
                _given=_folded(F("given_names")),
            )
            .filter(Q(_birth=family_folded) | Q(_used=family_folded))
        )
        if first_given:
            found = found.filter(
                Q(_given=Value(first_given))
                | Q(_given__startswith=Value(first_given + " "))
                | Q(_given__startswith=Value(first_given + "-"))
                | Q(_given__startswith=Value(first_given + ","))
            )
        by_identity = [_candidate(p) for p in found.order_by("pk")[:10]]
    by_nir: list[Candidate] = []
    if nir:
        by_nir = [
            _candidate(p) for p in Patient.objects.filter(nir__startswith=nir).order_by("pk")[:10]
        ]
    return by_identity, by_nir


def candidates(patient_ids: list[int]) -> list[Candidate]:
    """These patients of the practice, in the order given (one query)."""
    found = Patient.objects.in_bulk(patient_ids)
    return [_candidate(found[pk]) for pk in dict.fromkeys(patient_ids) if pk in found]


def patient_candidate(patient_id: int) -> Candidate | None:
    """One patient of the practice as the matching queue shows them."""
    patient = Patient.objects.filter(pk=patient_id).first()
    return _candidate(patient) if patient else None


# --- a report's results, for the practitioner reading them ----------------------------------


@dataclass(frozen=True)
class ResultLine:
    label: str
    code: str
    value: str  # in the reader's notation, with its unit ("1,42 g/L", "négatif")
    reference: str
    flag: str
    abnormal: bool
    at: datetime


@dataclass(frozen=True)
class LabReport:
    patient_id: int
    patient_name: str
    birth_date: date | None
    title: str
    text: str
    lines: list[ResultLine]
    trends: list[Plot]  # one per analysis measured at least twice, oldest to newest
    hidden: int  # results the reader may not see (a label, an exclusion)


ABNORMAL_FLAGS = {
    "low",
    "critically_low",
    "high",
    "critically_high",
    "abnormal",
    "critically_abnormal",
}
TRENDS = 12  # values kept per analysis for its plot


def lab_report(actor: Actor, report_id: int) -> LabReport:
    """The results of one report, each judged by the policy, and the trend of each
    analysis of the report measured before (the same code, the last values). One audit
    event: the clinical read of the patient."""
    document = Document.objects.filter(pk=report_id, kind=Document.Kind.RESULT).first()
    if document is None:
        raise Http404(_("No such report in this practice."))
    patient, access, (results,) = patient_with_access_and(
        document.patient_id, REPORT_RESULTS.bind(report=report_id)
    )
    records_access.require(actor, Action.READ, Category.CLINICAL, patient, access=access)
    visible = [o for o in results if records_access.may_see_entry(actor, access, o)]
    codes = sorted({o.code for o in visible if o.value is not None})
    history: dict[str, list[Observation]] = {}
    if codes:
        earlier = (
            Observation.objects.filter(
                patient_id=patient.pk, status=EntryStatus.ACTIVE, code__in=codes
            )
            .exclude(value=None)
            .annotate(
                nth=Window(RowNumber(), partition_by=[F("code")], order_by=F("effective_at").desc())
            )
            .filter(nth__lte=TRENDS)
        )
        for observation in earlier:
            if records_access.may_see_entry(actor, access, observation):
                history.setdefault(observation.code, []).append(observation)
    trends = lab_trends([o for series in history.values() for o in series], codes=codes)
    return LabReport(
        patient_id=patient.pk,
        patient_name=patient.display_name,
        birth_date=patient.birth_date,
        title=document.title,
        # The laboratory's own report holds every value: shown only to whoever may see
        # the document (its label is its most sensitive result's).
        text=document.body if records_access.may_see_entry(actor, access, document) else "",
        lines=[_line(o) for o in visible],
        trends=trends,
        hidden=len(results) - len(visible),
    )


def lab_trends(
    observations: list[Observation], *, codes: list[str] | None = None, most: int = 6
) -> list[Plot]:
    """A plot per analysis measured at least twice (of ``codes``, else the ``most``
    analyses measured last), oldest to newest. The observations are those the reader
    may see."""
    by_code: dict[str, list[Observation]] = {}
    for observation in observations:
        if observation.value is not None:
            by_code.setdefault(observation.code, []).append(observation)
    repeated = {
        code: sorted(series, key=lambda o: o.effective_at)
        for code, series in by_code.items()
        if len(series) >= 2
    }
    if codes is None:
        codes = sorted(repeated, key=lambda code: repeated[code][-1].effective_at, reverse=True)[
            :most
        ]
    trends = []
    for code in codes:
        series = repeated.get(code)
        if not series:
            continue
        label = series[-1].label
        drawn = plot(
            f"lab-{slugify(code)}",
            label,
            [(label, "result", [(o.effective_at, o.value) for o in series if o.value is not None])],
            unit(series[-1].unit),
            least_pad=max(abs(float(series[-1].value or 0)) * 0.05, 0.01),
        )
        if drawn is not None:
            trends.append(drawn)
    return trends


def _reference(observation: Observation) -> str:
    """The range in the reader's notation ("0,70 to 1,10", "≤ 5,1"), or as written."""
    low, high = observation.reference_low, observation.reference_high
    if low is not None and high is not None:
        return f"{number(low)} – {number(high)}"  # noqa: RUF001 (a range's dash)
    if high is not None:
        return f"≤ {number(high)}"
    if low is not None:
        return f"≥ {number(low)}"
    return observation.reference_text


def _line(observation: Observation) -> ResultLine:
    return ResultLine(
        label=observation.label,
        code=observation.code,
        value=measure(observation),
        reference=_reference(observation),
        flag=observation.flag,
        abnormal=observation.flag in ABNORMAL_FLAGS,
        at=observation.effective_at,
    )


REPORT_RESULTS = Prepared(
    lambda report: Observation.objects.filter(report_id=report, status=EntryStatus.ACTIVE).order_by(
        "pk"
    )
)
