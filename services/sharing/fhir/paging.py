"""Keyset paging of FHIR searches: the next page starts after the last row of this one.

With ``_offset`` PostgreSQL reads and throws away every row before the page, so the
hundredth page of a long access log costs a hundred pages. A search's ``next`` link
carries instead a ``_cursor``: the sort values of the page's last row, signed (a client
cannot forge one to reach past what the search returns, and a garbled link gets a clear
error). Every deep page then costs what the first does. ``_offset`` keeps working.

Only searches sorted on columns that are never null and ending with a unique one can
page this way (a condition "after these values" is then exact); the others go on with
``_offset``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce
from typing import Any

from django.core import signing
from django.db.models import Q

SALT = "carnet.fhir.cursor"

# (field path, descending), in sort order; the last one is unique (the primary key).
Keys = list[tuple[str, bool]]


class BadCursor(ValueError):
    pass


# Sort keys that tell rows apart: the primary key, or an audit event's place in its
# practice's chain (a patient's events are all in their practice's chain).
UNIQUE_LAST = {"pk", "id", "seq"}


def keys_of(order: Sequence[Any]) -> Keys | None:
    """The keys of an ordering made of field names and ending with a unique one; None
    otherwise (an expression placing nulls, or ties possible): such a search pages by
    offset."""
    keys: Keys = []
    for term in order:
        if not isinstance(term, str):
            return None
        keys.append((term.removeprefix("-"), term.startswith("-")))
    if not keys or keys[-1][0] not in UNIQUE_LAST:
        return None
    return keys


def cursor_after(row: Any, keys: Keys, resource_type: str) -> str:
    """The signed cursor of a row: its values of the sort keys."""
    values = []
    for path, _descending in keys:
        value = row
        for part in path.split("__"):
            value = getattr(value, part)
        values.append(value.isoformat() if hasattr(value, "isoformat") else value)
    return signing.dumps([resource_type, values], salt=SALT)


def rows_after(cursor: str, keys: Keys, resource_type: str) -> Q:
    """The condition "sorted after the cursor's row": (k1 after v1) or (k1 = v1 and
    k2 after v2) or ... Raises BadCursor for a cursor not made by this server for this
    kind of search."""
    try:
        kind, values = signing.loads(cursor, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadCursor(str(error)) from error
    if kind != resource_type or not isinstance(values, list) or len(values) != len(keys):
        raise BadCursor("a cursor of another search")
    branches = []
    for index, (path, descending) in enumerate(keys):
        same = {key: value for (key, _d), value in zip(keys[:index], values, strict=False)}
        branches.append(Q(**same, **{f"{path}__{'lt' if descending else 'gt'}": values[index]}))
    return reduce(operator.or_, branches)
