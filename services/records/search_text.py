"""What a search box accepts, shared by the patient, drug and CIM-10 searches.

A search box takes text a person can type. A NUL byte cannot be stored or compared by
PostgreSQL, a lone surrogate cannot be encoded, and other control characters are never
typed: such a query finds nothing, and the pages and the API answer 400 with
``problem``'s message instead of failing. SQL and LIKE metacharacters are ordinary
characters here: every term is a bound parameter and no search uses LIKE on a term.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

# Longer than any query a person types: the pages and the API cut queries to this.
MAX_LENGTH = 200

# Hyphens, apostrophes and punctuation separate the words of a name, as spaces do (the
# same characters as carnet_name_words, migration records/0009).
WORD_SEPARATORS = re.compile("[\\s'\u2019\u2018.,;:/()_\\-]+")

# No word of a name is longer; a longer term is cut (it bounds the lookup keys).
LONGEST_WORD = 40

# Terms shorter than this only match the beginning of a word.
SHORT = 3


def problem(query: str) -> str | None:
    """Why a query cannot be searched, or None."""
    for character in query:
        if character.isspace():
            continue
        category = unicodedata.category(character)
        if category == "Cs":
            return _("The search contains an invalid character.")
        if category == "Cc":
            return _("The search contains a control character.")
    return None


def words(text: str) -> list[str]:
    """The words of a term, split as the names are (``n'diaye-lefevre``: three)."""
    return [word for word in WORD_SEPARATORS.split(text) if word]


def is_short(term: str) -> bool:
    """Whether a term only matches the beginning of words (accents do not count)."""
    plain = "".join(
        character
        for character in unicodedata.normalize("NFKD", term)
        if not unicodedata.combining(character)
    )
    return len(plain) < SHORT
