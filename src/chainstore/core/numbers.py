"""Document numbers: a prefix, the date and the row id (SO20261125000042)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


def provisional() -> str:
    """A unique placeholder until the row has its id (see `assign`)."""
    return f"tmp-{uuid.uuid4().hex[:24]}"


def assign(obj: models.Model, prefix: str) -> str:
    """Give a freshly created row its number from its id; saves only that field."""
    number = f"{prefix}{timezone.localdate():%Y%m%d}{obj.pk:06d}"
    type(obj)._default_manager.filter(pk=obj.pk).update(number=number)
    obj.number = number  # type: ignore[attr-defined]
    return number
