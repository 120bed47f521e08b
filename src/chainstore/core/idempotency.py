"""Idempotent writes: a client key makes a replay return the first result.

The key lives on the document row behind a unique constraint. The first request wins;
a concurrent duplicate hits the constraint (IntegrityError), and we return the winner's
row. A key reused for a different request body is refused (409).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from chainstore.core.errors import IdempotencyKeyReused, ValidationFailed

T = TypeVar("T")


def fingerprint(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_idempotent(
    *,
    key: str | None,
    request_hash: str,
    find: Callable[[str], T | None],
    create: Callable[[], T],
) -> T:
    """Run `create` in a transaction unless `key` was seen; mark replays with `.replayed`."""
    if key is not None:
        if not key or len(key) > 100:
            raise ValidationFailed(
                "Idempotency key must be 1-100 characters.", code="invalid_idempotency_key"
            )
        existing = find(key)
        if existing is not None:
            return _replay(existing, request_hash, key)
    try:
        with transaction.atomic():
            result = create()
    except IntegrityError:
        if key is None:
            raise
        existing = find(key)
        if existing is None:
            raise
        return _replay(existing, request_hash, key)
    result.replayed = False  # type: ignore[attr-defined]
    return result


def _replay(existing: Any, request_hash: str, key: str) -> Any:
    stored = getattr(existing, "request_hash", "")
    if stored and request_hash and stored != request_hash:
        raise IdempotencyKeyReused(idempotency_key=key)
    existing.replayed = True
    return existing
