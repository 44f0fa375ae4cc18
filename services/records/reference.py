"""French reference data: loading the BDPM drugs and the CIM-10 codes, and searching them.

The loaders run as the database owner role (``carnet load_reference``): the application
role may only read these tables. They upsert rather than truncate, because prescriptions
and vaccinations point to drugs with ``PROTECT``: a drug that leaves the BDPM file is
marked as not marketed and stays, so old prescriptions keep their link.

The drug and CIM-10 searches forgive typos, French spellings and unfinished words as the
patient search does (the same rules and code: ``records.word_search``), through the words
of the names kept by triggers (migration records/0013). The substance and ATC searches
use the trigram similarity (pg_trgm ``<%``) of the unaccented, lower-case name.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

from django.db import connection, models, transaction

from core.prepared import PreparedModelSQL
from records import search_text, word_search
from records.models import AtcClass, Cim10Code, Drug, Substance
from records.models.reference import CIM10_CODE_PATTERN

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DRUGS_FILE = DATA_DIR / "CIS_bdpm.txt.gz"
DEFAULT_CIM10_FILE = DATA_DIR / "cim10_fr_atih.csv.gz"
# The BDPM products that are vaccines: a list derived from CIS_bdpm.txt (denomination
# containing "vaccin", homeopathy excluded), and the vaccines whose denomination lacks the
# word (see data/SOURCES.md).
DEFAULT_VACCINE_FILES = (DATA_DIR / "vaccins_bdpm.tsv", DATA_DIR / "vaccins_bdpm_ajouts.tsv")

BDPM_COLUMNS = 12
MARKETED = "Commercialisée"
CIS_PATTERN = re.compile(r"\d{8}")

# pg_trgm's default (0.6) misses common typos such as "amoxiciline"; 0.4 still keeps
# unrelated words out.
WORD_SIMILARITY_THRESHOLD = "0.4"


# Reading the files ----------------------------------------------------------------------


@dataclass(frozen=True)
class DrugRow:
    cis: str
    name: str
    form: str
    routes: str
    marketed: bool
    holder: str


@dataclass(frozen=True)
class Cim10Row:
    code: str
    label: str  # fitted to the column
    full_label: str  # searched, so that a long label is found by its last words too


def read_text(path: Path) -> str:
    """The file's text, gunzipped if it ends in .gz.

    The shipped copies are UTF-8, but a fresh BDPM download is windows-1252: accept both,
    so that an administrator can load it as downloaded.
    """
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def fit(value: str, max_length: int) -> str:
    """Trim, and shorten with an ellipsis what would not fit the column."""
    value = value.strip()
    return value if len(value) <= max_length else value[: max_length - 1] + "…"


def max_length(model: type[Drug] | type[Cim10Code], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


def read_drugs(path: Path) -> list[DrugRow]:
    """Parse CIS_bdpm.txt: tab-separated, no header, no quoting (names contain ")."""
    name_max = max_length(Drug, "name")
    form_max = max_length(Drug, "form")
    routes_max = max_length(Drug, "routes")
    holder_max = max_length(Drug, "holder")
    drugs: dict[str, DrugRow] = {}
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < BDPM_COLUMNS or not CIS_PATTERN.fullmatch(fields[0].strip()):
            raise ValueError(
                f"{path}, line {number}: not a CIS_bdpm.txt line "
                f"({len(fields)} columns, {BDPM_COLUMNS} expected)"
            )
        cis = fields[0].strip()
        drugs[cis] = DrugRow(
            cis=cis,
            name=fit(fields[1], name_max),
            form=fit(fields[2], form_max),
            routes=fit(fields[3], routes_max),
            marketed=fields[6].strip() == MARKETED,
            holder=fit(fields[10], holder_max),
        )
    return list(drugs.values())


def read_cim10(path: Path) -> list[Cim10Row]:
    """Parse the ATIH CSV (code,type,ssr,psy,short,long): codes without the dot."""
    label_max = max_length(Cim10Code, "label")
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    missing = {"code", "short", "long"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
    codes: dict[str, Cim10Row] = {}
    for row in reader:
        code = row["code"].strip().upper()
        if not CIM10_CODE_PATTERN.fullmatch(code):
            raise ValueError(f"{path}, line {reader.line_num}: not a CIM-10 code: {code!r}")
        label = (row["long"] or row["short"]).strip()
        codes[code] = Cim10Row(code=code, label=fit(label, label_max), full_label=label)
    return list(codes.values())


# Loading --------------------------------------------------------------------------------


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> None:
    """COPY rows into a table through psycopg 3, in the current transaction."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor() as pg_cursor,
        pg_cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def refresh_search_statistics(*tables: str) -> None:
    """Make searches plan with the new rows at once, without waiting for autovacuum
    (ANALYZE, unlike VACUUM, works inside the load's transaction)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


REFERENCE_WORD_TABLES = ("records_referenceword", "records_referencekey")


def refresh_search_index(table: str, index: str) -> None:
    """Make searches use a trigram index at once, without waiting for autovacuum.

    Rows inserted into a GIN index first go to its pending list, which every search reads
    in full and which makes the planner prefer a sequential scan (650 ms instead of
    10 ms on the CIM-10). Merge the list and refresh the statistics; unlike VACUUM, both
    work inside the load's transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
    refresh_search_statistics(table)


DRUG_UPSERT = """
INSERT INTO records_drug (cis, name, form, routes, marketed, holder, search_name)
SELECT cis, name, form, routes, marketed, holder, lower(carnet_unaccent(name))
FROM drug_import
ON CONFLICT (cis) DO UPDATE SET
    name = EXCLUDED.name,
    form = EXCLUDED.form,
    routes = EXCLUDED.routes,
    marketed = EXCLUDED.marketed,
    holder = EXCLUDED.holder,
    search_name = EXCLUDED.search_name
-- Unchanged rows are not rewritten: a reload then costs little, and bloats nothing.
WHERE (records_drug.name, records_drug.form, records_drug.routes, records_drug.marketed,
       records_drug.holder, records_drug.search_name)
   IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.form, EXCLUDED.routes, EXCLUDED.marketed,
                     EXCLUDED.holder, EXCLUDED.search_name)
"""

# Prescriptions and vaccinations may point to them: never delete, stop proposing them.
DRUG_RETIRE = """
UPDATE records_drug SET marketed = false
WHERE marketed AND NOT EXISTS (SELECT 1 FROM drug_import i WHERE i.cis = records_drug.cis)
"""


@transaction.atomic
def load_drugs(path: Path | str) -> int:
    """Upsert the drugs of a CIS_bdpm.txt file (plain or .gz); return how many it holds."""
    drugs = read_drugs(Path(path))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE drug_import (cis text PRIMARY KEY, name text, form text,"
            " routes text, marketed boolean, holder text) ON COMMIT DROP"
        )
        copy_rows(
            "drug_import",
            ["cis", "name", "form", "routes", "marketed", "holder"],
            (astuple(drug) for drug in drugs),
        )
        cursor.execute(DRUG_UPSERT)
        cursor.execute(DRUG_RETIRE)
        # ON COMMIT DROP is not enough when called inside a longer transaction (tests).
        cursor.execute("DROP TABLE drug_import")
        refresh_search_statistics("records_drug", "records_drugword", *REFERENCE_WORD_TABLES)
    return len(drugs)


CIM10_UPSERT = """
INSERT INTO records_cim10code (code, label, search_label)
SELECT code, label, lower(carnet_unaccent(full_label))
FROM cim10_import
ON CONFLICT (code) DO UPDATE SET
    label = EXCLUDED.label,
    search_label = EXCLUDED.search_label
WHERE (records_cim10code.label, records_cim10code.search_label)
   IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.search_label)
"""

# Nothing references a CIM-10 row (problems keep their own code and label), so codes
# that left the classification can go.
CIM10_REMOVE = """
DELETE FROM records_cim10code
WHERE NOT EXISTS (SELECT 1 FROM cim10_import i WHERE i.code = records_cim10code.code)
"""


@transaction.atomic
def load_cim10(path: Path | str) -> int:
    """Replace the CIM-10 codes with those of an ATIH CSV file (plain or .gz)."""
    codes = read_cim10(Path(path))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE cim10_import (code text PRIMARY KEY, label text,"
            " full_label text) ON COMMIT DROP"
        )
        copy_rows(
            "cim10_import",
            ["code", "label", "full_label"],
            (astuple(code) for code in codes),
        )
        cursor.execute(CIM10_UPSERT)
        cursor.execute(CIM10_REMOVE)
        cursor.execute("DROP TABLE cim10_import")
        refresh_search_statistics("records_cim10code", "records_cim10word", *REFERENCE_WORD_TABLES)
    return len(codes)


def read_vaccine_cis(paths: Sequence[Path]) -> set[str]:
    """The CIS codes of the vaccine lists: tab-separated, a header, the CIS first."""
    codes: set[str] = set()
    for path in paths:
        lines = read_text(path).split("\n")
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cis = line.split("\t")[0].strip()
            if not CIS_PATTERN.fullmatch(cis):
                raise ValueError(f"{path}, line {number}: not a CIS code: {cis!r}")
            codes.add(cis)
    return codes


@transaction.atomic
def load_vaccines(paths: Sequence[Path | str] = DEFAULT_VACCINE_FILES) -> int:
    """Mark the drugs that are vaccines (after the drugs are loaded); return how many of
    the listed vaccines are among the drugs."""
    codes = sorted(read_vaccine_cis([Path(path) for path in paths]))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_drug SET vaccine = (cis = ANY(%s))"
            " WHERE vaccine IS DISTINCT FROM (cis = ANY(%s))",
            [codes, codes],
        )
        cursor.execute("SELECT count(*) FROM records_drug WHERE vaccine")
        (count,) = cursor.fetchone() or (0,)
    return int(count)


# Searching ------------------------------------------------------------------------------


def search_terms(query: str) -> list[str]:
    """The query's terms; none if no person could have typed it (a NUL byte, a control
    character, a lone surrogate: records.search_text)."""
    if search_text.problem(query) is not None:
        return []
    return query.split()[:10]  # enough for any real query; bounds the generated SQL


def similarity_sql(terms: Sequence[str], column: str) -> tuple[str, str]:
    """SQL for "every term matches ``column``" and for the summed word similarity.

    One ``<%`` condition per term, each on the indexed column, so that the planner can
    answer them from the GIN trigram index. ``%%`` is a literal ``%`` for psycopg.
    """
    term = "lower(carnet_unaccent(%s))"
    where = " AND ".join(f"{term} <%% {column}" for _ in terms)
    rank = " + ".join(f"word_similarity({term}, {column})" for _ in terms)
    return where, rank


def set_similarity_threshold() -> None:
    """For the rest of the current transaction only (``is_local``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [WORD_SIMILARITY_THRESHOLD],
        )


# One statement per shape of query (core.prepared): which terms are prefix-only, and
# whether only vaccines are wanted.
_DRUG_SEARCHES: dict[tuple[tuple[bool, ...], bool], PreparedModelSQL] = {}
_CIM10_SEARCHES: dict[tuple[bool, ...], PreparedModelSQL] = {}


def _words_sql(
    dictionary: word_search.Dictionary,
    short: tuple[bool, ...],
    *,
    table: str,
    alias: str,
    key: str,
    where: str = "",
    first: str = "",
    order: str,
) -> str:
    """The search statement of a reference table by the words of its searched text: the whole
    name typed exactly first, then by ``first`` (if any), then every term a whole word,
    then fewer edits, then the names the terms cover most, then ``order``. Fixed SQL
    fragments only: every value is a bound parameter."""
    ctes = word_search.hits_sql(dictionary, short)
    # How many letters the searched text has (a stored column: records.models.letters_of).
    coverage = word_search.coverage_sql("hits.covered", f"{alias}.search_letters")
    return f"""WITH {",".join(ctes)}
SELECT {{columns}}, hits.exact AS exact, hits.edits AS edits, {coverage} AS coverage
FROM {table} {alias} JOIN hits ON hits.item = {alias}.{key}
WHERE {alias}.{key} = ANY (ARRAY(SELECT item FROM hits)) {where}
ORDER BY (hits.exact AND {coverage} >= 1) DESC, {first}
         hits.exact DESC, hits.edits, coverage DESC, {order}
LIMIT %(limit)s"""  # noqa: S608  # nosec B608


def drug_search(query: str, limit: int = 20, *, vaccines: bool = False) -> list[Drug]:
    """Drugs whose name has a word for every term of the query (typos, French spellings
    and the beginning of words forgiven, as for patients): the name typed exactly first,
    then the marketed ones, and among them (then among the others) exact words first,
    then fewer edits, then the names the terms cover most. Each result carries
    ``exact``, ``edits`` and ``coverage``. With ``vaccines``, only the vaccines. One
    statement."""
    if search_text.problem(query) is not None:
        return []
    terms = word_search.terms(query)
    if not terms:
        return []
    shape = (word_search.shape(terms), vaccines)
    search = _DRUG_SEARCHES.get(shape)
    if search is None:
        sql = _words_sql(
            word_search.DRUGS,
            shape[0],
            table="records_drug",
            alias="d",
            key="cis",
            where="AND d.vaccine" if vaccines else "",
            first="d.marketed DESC,",
            order="d.name, d.cis",
        )
        search = _DRUG_SEARCHES[shape] = PreparedModelSQL(
            sql, Drug, alias="d", annotations=["exact", "edits", "coverage"]
        )
    return search.all(**word_search.values(terms), limit=limit)


def as_cim10_code(query: str) -> str | None:
    """ "E11.9", "e119" or " E11 " -> the code as stored ("E119", "E11"); else None."""
    return Cim10Code.normalise(query)


def cim10_search(query: str, limit: int = 20) -> list[Cim10Code]:
    """CIM-10 codes for a query that is a code (exact code first, then its subdivisions)
    or words of the label (as ``drug_search``: the label typed exactly first, then exact
    words, fewer edits, the labels the terms cover most, broader codes first)."""
    results: list[Cim10Code] = []
    if search_text.problem(query) is not None:
        return results
    code = as_cim10_code(query)
    if code:
        # A code sorts before its subdivisions ("E11" < "E119" < "E1190").
        results = list(Cim10Code.objects.filter(code__startswith=code).order_by("code")[:limit])
    terms = word_search.terms(query)
    if len(results) >= limit or not terms:
        return results
    shape = word_search.shape(terms)
    search = _CIM10_SEARCHES.get(shape)
    if search is None:
        sql = _words_sql(
            word_search.CIM10,
            shape,
            table="records_cim10code",
            alias="c",
            key="code",
            order="length(c.code), c.code",
        )
        search = _CIM10_SEARCHES[shape] = PreparedModelSQL(
            sql, Cim10Code, alias="c", annotations=["exact", "edits", "coverage"]
        )
    seen = {result.code for result in results}
    found = search.all(**word_search.values(terms), limit=limit)
    results += [result for result in found if result.code not in seen]
    return results[:limit]


def substance_search(query: str, limit: int = 10) -> list[Substance]:
    """Substances for an allergy: one per moiety (its shortest name, e.g. "AMOXICILLINE"
    rather than "AMOXICILLINE TRIHYDRATÉE"), closest first."""
    terms = search_terms(query)
    if not terms:
        return []
    where, rank = similarity_sql(terms, "search_name")
    sql = (
        "SELECT * FROM (SELECT DISTINCT ON (moiety) *,"  # noqa: S608  # nosec B608
        f" {rank} AS rank FROM records_substance WHERE {where}"
        " ORDER BY moiety, length(name), code) AS found ORDER BY rank DESC, name LIMIT %s"
    )
    with transaction.atomic():
        set_similarity_threshold()
        return list(Substance.objects.raw(sql, [*terms, *terms, limit]))


ATC_CLASS_PATTERN = re.compile(r"[A-Z]\d{2}[A-Z]{0,2}\d{0,2}")


def atc_search(query: str, limit: int = 10) -> list[AtcClass]:
    """ATC classes by code ("J01C", then its subdivisions) or by words of WHO's English
    label ("penicillin"); broader classes first."""
    code = query.strip().upper()
    if ATC_CLASS_PATTERN.fullmatch(code):
        return list(AtcClass.objects.filter(code__startswith=code).order_by("code")[:limit])
    terms = search_terms(query)
    if not terms:
        return []
    where, rank = similarity_sql(terms, "search_label")
    sql = (
        f"SELECT *, {rank} AS rank FROM records_atcclass WHERE {where}"  # noqa: S608  # nosec B608
        " ORDER BY rank DESC, length(code), code LIMIT %s"
    )
    with transaction.atomic():
        set_similarity_threshold()
        return list(AtcClass.objects.raw(sql, [*terms, *terms, limit]))


# --- Search boxes ----------------------------------------------------------------------
# What a search box of the pages or of the API lists for the text typed, so that both
# answer the same: nothing until enough is typed (two or three letters of a name match a
# large part of the table; a CIM-10 or ATC code is worth looking up from its second
# character), the search otherwise.
NAME_MIN_LENGTH = 3
CODE_MIN_LENGTH = 2


def typed_enough(query: str, min_length: int) -> bool:
    return len(query.strip()) >= min_length


def drugs_typed(query: str, limit: int = 20, *, vaccines: bool = False) -> list[Drug]:
    if not typed_enough(query, NAME_MIN_LENGTH):
        return []
    return drug_search(query, limit, vaccines=vaccines)


def substances_typed(query: str, limit: int = 10) -> list[Substance]:
    return substance_search(query, limit) if typed_enough(query, NAME_MIN_LENGTH) else []


def atc_classes_typed(query: str, limit: int = 10) -> list[AtcClass]:
    return atc_search(query, limit) if typed_enough(query, CODE_MIN_LENGTH) else []


def cim10_typed(query: str, limit: int = 20) -> list[Cim10Code]:
    return cim10_search(query, limit) if typed_enough(query, CODE_MIN_LENGTH) else []
