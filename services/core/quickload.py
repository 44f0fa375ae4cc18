"""Model instances made from database rows without going through ``Model.__init__``.

A page of today's list makes 120 model instances (the day's appointments, each with its
type, site and practitioner), a chart page more. Django makes each one by calling the
model's ``__init__``, which sends the ``pre_init`` and ``post_init`` signals, checks its
arguments and sets the fields one by one through ``setattr``; for a deferred load it
first looks each field up in a list. ``from_db`` is Django's documented point to change
how an instance is made from a row: ``QuickLoad`` fills the instance's ``__dict__`` with
the row's values directly, which is what ``__init__`` ends up doing for these models.

It does so only when that is exactly what ``__init__`` would do, and otherwise falls
back to Django's way, for each model:

- the model does not define its own ``__init__``;
- every concrete field is stored as is (its attribute is Django's plain descriptor, or
  the foreign key's, which only clears a cached related object: a new instance has none);
- no receiver listens to ``pre_init`` or ``post_init`` for the model (checked on each
  load: a receiver connected later is honoured).

``tests/core/test_quickload.py`` shows the instances equal Django's own, deferred fields
included.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection
from typing import Any, Self

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_PLAIN = (DeferredAttribute, ForeignKeyDeferredAttribute)

# For each model: None when it must load Django's way; else the concrete fields'
# attribute names, and the names for each set of fields loaded (deferred loads).
_plans: dict[type, tuple[tuple[str, ...], dict[tuple[str, ...], tuple[str, ...]]] | None] = {}


def _plan(cls: type[models.Model]) -> tuple[tuple[str, ...], dict] | None:
    if cls in _plans:
        return _plans[cls]
    plan: tuple[tuple[str, ...], dict] | None = None
    if cls.__init__ is models.Model.__init__:
        fields = cls._meta.concrete_fields
        if all(type(inspect.getattr_static(cls, f.attname, None)) in _PLAIN for f in fields):
            plan = (tuple(f.attname for f in fields), {})
    _plans[cls] = plan
    return plan


def _listened(cls: type) -> bool:
    return bool(pre_init.receivers or post_init.receivers) and (
        pre_init.has_listeners(cls) or post_init.has_listeners(cls)
    )


class QuickLoad:
    """Mixed into a model (before ``models.Model``): its instances are made from rows
    by filling their ``__dict__``, as described above."""

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Collection[str], values: Collection[Any], **options: Any
    ) -> Self:
        plan = _plan(cls)  # type: ignore[arg-type]
        if plan is None or options or _listened(cls):
            return super().from_db(db, field_names, values, **options)  # type: ignore[misc]
        every, loaded = plan
        if len(values) == len(every):
            names = every
        else:
            key = tuple(field_names)
            names = loaded.get(key)  # type: ignore[assignment]
            if names is None:
                # Django's order: the concrete fields', those loaded (values follow it).
                wanted = set(field_names)
                names = loaded[key] = tuple(name for name in every if name in wanted)
            if len(names) != len(values):
                return super().from_db(db, field_names, values)  # type: ignore[misc]
        new = cls.__new__(cls)
        state = ModelState()
        state.adding = False
        state.db = db
        attributes = new.__dict__
        attributes["_state"] = state
        attributes.update(zip(names, values, strict=True))
        return new
