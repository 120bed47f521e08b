"""Explicit audit rows, written by services in the same transaction as the change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models as dj_models
from django.db import transaction
from django.utils import timezone

from chainstore.core.models import AuditEvent, AuditSeal


def record(
    *,
    actor: Any,
    action: str,
    obj: dj_models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    from_state: str = "",
    to_state: str = "",
    site_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        from_state=from_state,
        to_state=to_state,
        site_id=site_id,
        data=data or {},
    )


def _event_digest(prev_hash: str, event: AuditEvent) -> str:
    payload = json.dumps(
        [
            prev_hash,
            event.pk,
            event.seal_seq,
            event.at.isoformat(),
            event.actor_id,
            event.action,
            event.object_type,
            event.object_id,
            event.from_state,
            event.to_state,
            event.site_id,
            event.data,
        ],
        sort_keys=True,
        default=str,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def seal_trail(batch_size: int = 5000) -> int:
    """Chain every unsealed event onto the hash chain; returns how many were sealed."""
    sealed = 0
    while True:
        with transaction.atomic():
            head, _ = AuditSeal.objects.select_for_update().get_or_create(pk=1)
            events = list(
                AuditEvent.objects.filter(seal_seq__isnull=True).order_by("id")[:batch_size]
            )
            if not events:
                return sealed
            seq, prev = head.last_seq, head.last_hash
            for event in events:
                seq += 1
                event.seal_seq = seq
                event.chain_hash = _event_digest(prev, event)
                prev = event.chain_hash
            AuditEvent.objects.bulk_update(events, ["seal_seq", "chain_hash"], batch_size=1000)
            AuditSeal.objects.filter(pk=head.pk).update(
                last_seq=seq, last_hash=prev, sealed_at=timezone.now()
            )
            sealed += len(events)


def verify_trail() -> list[str]:
    """Recompute the chain; returns a description of every break (empty = intact)."""
    problems: list[str] = []
    prev = "0" * 64
    expected_seq = 0
    for event in (
        AuditEvent.objects.filter(seal_seq__isnull=False)
        .order_by("seal_seq")
        .iterator(chunk_size=5000)
    ):
        expected_seq += 1
        if event.seal_seq != expected_seq:
            problems.append(f"sequence gap before event {event.pk} (seq {event.seal_seq})")
            expected_seq = event.seal_seq or expected_seq
        digest = _event_digest(prev, event)
        if digest != event.chain_hash:
            problems.append(f"event {event.pk} (seq {event.seal_seq}) was altered")
        prev = event.chain_hash
    head = AuditSeal.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != expected_seq or head.last_hash != prev):
        problems.append("sealed events were deleted after the last seal")
    return problems


def save_changes(
    obj: dj_models.Model,
    fields: dict[str, Any],
    *,
    actor: Any,
    action: str,
    site_id: int | None = None,
) -> None:
    """Set `fields` on a master record, save just those columns and audit each from -> to."""
    before = {key: getattr(obj, key) for key in fields}
    for key, value in fields.items():
        setattr(obj, key, value)
    obj.save(update_fields=list(fields))
    record(
        actor=actor,
        action=action,
        obj=obj,
        site_id=site_id,
        data={key: [str(before[key]), str(value)] for key, value in fields.items()},
    )
