"""The posology as printed, in figures or in letters, and which drugs need the
ordonnance sécurisée.

Pure functions: the prescription service builds the posology line with them, the
ordonnance prints it, and the tests check them without a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from num2words import num2words

# Substances (moieties, as records.compositions names them) whose drugs are prescribed on
# an ordonnance sécurisée, with quantities and doses in letters (code de la santé
# publique, art. R5132-5 and R5132-29):
# - stupéfiants (liste des stupéfiants, arrêté du 22 février 1990 as amended) and the
#   drugs that follow their prescription rules;
# - clonazepam by mouth (2012) and zolpidem (2017);
# - since 1 March 2025, every drug containing tramadol, codeine or dihydrocodeine
#   (ANSM decision, postponed from 1 December 2024).
# The BDPM files shipped with Carnet do not carry the stupéfiant status (it is in
# CIS_CPD, not delivered), hence this list. Check it against the ANSM before a release.
SECURE_PRESCRIPTION = {
    "alfentanil": "stupéfiant",
    "buprenorphine": "stupéfiant (règles des stupéfiants)",
    "clonazepam": "règles des stupéfiants (2012)",
    "cocaine": "stupéfiant",
    "codeine": "ordonnance sécurisée depuis le 1er mars 2025",
    "dexamfetamine": "stupéfiant",
    "dihydrocodeine": "ordonnance sécurisée depuis le 1er mars 2025",
    "fentanyl": "stupéfiant",
    "hydromorphone": "stupéfiant",
    "ketamine": "stupéfiant",
    "lisdexamfetamine": "stupéfiant",
    "methadone": "stupéfiant",
    "methylphenidate": "stupéfiant",
    "morphine": "stupéfiant",
    "oxybate": "stupéfiant",
    "oxycodone": "stupéfiant",
    "pethidine": "stupéfiant",
    "remifentanil": "stupéfiant",
    "sufentanil": "stupéfiant",
    "tapentadol": "stupéfiant",
    "tramadol": "ordonnance sécurisée depuis le 1er mars 2025",
    "zolpidem": "règles des stupéfiants (2017)",
}


def needs_secure_prescription(moieties: Iterable[str]) -> bool:
    return any(moiety in SECURE_PRESCRIPTION for moiety in moieties)


# Units: abbreviations stay as they are; these nouns are feminine ("une gélule").
ABBREVIATIONS = {"mg", "g", "µg", "mcg", "ml", "ui", "mui", "kg"}
FEMININE = {
    "ampoule",
    "application",
    "bouffée",
    "capsule",
    "cuillère",
    "cuillère-mesure",
    "dose",
    "dose-poids",
    "goutte",
    "gélule",
    "inhalation",
    "pipette",
    "pulvérisation",
    "unité",
}
PERIODS = {"day": "jour", "week": "semaine"}


def plural(unit: str, quantity: Decimal) -> str:
    """French: the plural from 2 on; "cuillère-mesure" -> "cuillères-mesures"."""
    if quantity < 2 or unit.lower() in ABBREVIATIONS:
        return unit
    words = unit.split(" ")
    head = "-".join(
        part if part.endswith(("s", "x", "z")) else part + "s" for part in words[0].split("-")
    )
    return " ".join([head, *words[1:]])


def figures(value: Decimal) -> str:
    """1 -> "1", 1.50 -> "1,5" (French decimal comma)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def in_letters(value: Decimal | int, *, feminine: bool = False) -> str:
    """French words for a number: 3 -> "trois", 1 (feminine) -> "une", 21 -> "vingt et
    un", 2.5 -> "deux virgule cinq" (see ``amount`` for halves and quarters)."""
    value = Decimal(value)
    if value == int(value):
        return _gender(num2words(int(value), lang="fr"), feminine)
    return str(num2words(value, lang="fr"))


def amount(value: Decimal, unit: str, *, letters: bool) -> str:
    """A quantity with its unit, as a French prescription writes it: "2 comprimés",
    "1,5 comprimé"; in letters "deux comprimés", "un comprimé et demi", "une
    demi-gélule", "un quart de comprimé"."""
    if not letters:
        return f"{figures(value)} {plural(unit, value)}"
    feminine = unit.lower() in FEMININE
    whole = int(value)
    fraction = value - whole
    if fraction == Decimal("0.5") and whole == 0:
        return f"{'une' if feminine else 'un'} demi-{unit}"
    if fraction in (Decimal("0.25"), Decimal("0.75")) and whole == 0:
        return f"{'un quart' if fraction == Decimal('0.25') else 'trois quarts'} de {unit}"
    if fraction in (Decimal("0.25"), Decimal("0.5"), Decimal("0.75")):
        tail = {
            Decimal("0.25"): "et quart",
            Decimal("0.5"): "et demie" if feminine else "et demi",
            Decimal("0.75"): "trois quarts",
        }[fraction]
        words = in_letters(Decimal(whole), feminine=feminine)
        return f"{words} {plural(unit, Decimal(whole))} {tail}"
    return f"{in_letters(value, feminine=feminine)} {plural(unit, value)}"


def _gender(words: str, feminine: bool) -> str:
    if feminine and (words == "un" or words.endswith((" un", "-un"))):
        return words + "e"
    return words


def posology(
    *,
    quantity: Decimal | None,
    unit: str,
    frequency: int | None,
    period: str,
    note: str = "",
    letters: bool = False,
) -> str:
    """ "1 comprimé 3 fois par jour, au cours des repas"; in letters: "un comprimé trois
    fois par jour, au cours des repas". The free text alone when nothing is structured."""
    parts = []
    if quantity is not None and unit:
        parts.append(amount(quantity, unit, letters=letters))
    if frequency:
        times = in_letters(frequency, feminine=True) if letters else str(frequency)
        parts.append(f"{times} fois par {PERIODS.get(period, 'jour')}")
    structured = " ".join(parts)
    note = note.strip()
    if structured and note:
        return f"{structured}, {note}"
    return structured or note


def duration(days: int, *, letters: bool = False) -> str:
    amount = in_letters(days) if letters else str(days)
    return f"pendant {amount} jour{'s' if days > 1 else ''}"


DOSAGE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(mg|g|µg|microgrammes?|milligrammes?|ml|mL|UI)\b")
UNIT_WORDS = {
    "mg": "milligramme",
    "milligramme": "milligramme",
    "milligrammes": "milligramme",
    "g": "gramme",
    "µg": "microgramme",
    "microgramme": "microgramme",
    "microgrammes": "microgramme",
    "ml": "millilitre",
    "ui": "unité internationale",
}


def dosage_in_letters(text: str) -> str:
    """Each dosage of a DCI followed by its words: "TRAMADOL 50 mg" -> "TRAMADOL 50 mg
    (cinquante milligrammes)"."""

    def spell(match: re.Match[str]) -> str:
        value = Decimal(match.group(1).replace(",", "."))
        unit = UNIT_WORDS.get(match.group(2).lower(), match.group(2))
        if unit.startswith("unité"):
            noun = "unités internationales" if value >= 2 else unit
            return f"{match.group(0)} ({in_letters(value, feminine=True)} {noun})"
        return f"{match.group(0)} ({amount(value, unit, letters=True)})"

    return DOSAGE.sub(spell, text)
