"""The transfer timeline: one TransferEvent per step, in the same transaction as the step."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from chainstore.transfers.models import Transfer, TransferEvent


def add_event(
    transfer: Transfer, kind: str, *, actor: Any = None, at: Any = None, **data: Any
) -> TransferEvent:
    return TransferEvent.objects.create(
        transfer=transfer,
        kind=kind,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        data=data,
    )
