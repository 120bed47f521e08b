"""Transfer requests (调拨申请): create, edit while a draft or returned, submit into the
approval chain, cancel before shipping, and the one-click suggestion from a safety-stock
alert.

Kinds follow the two sites: warehouse -> store is a store's replenishment request when the
requester works at the store, otherwise the warehouse's push; store -> store and
warehouse -> warehouse are named as such. The requester needs `transfers.request` at the
destination for a replenishment, at the source for a push, and at either end for store to
store or warehouse to warehouse (a store short of stock asks a neighbour; a neighbour
offers). Store -> warehouse (returns to the warehouse) is not a transfer kind and is refused.

Submitting values the lines at the source's moving-average cost (the figure approval rules
read), copies the matching rule's levels into a new round of approval steps, or approves at
once when no rule matches.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit, numbers
from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import QTY_SCALE, value_fen
from chainstore.fulfilment.geo import distance_km
from chainstore.inventory.models import Balance, SiteSku
from chainstore.inventory.services import available_to_promise
from chainstore.sites.models import Site
from chainstore.transfers.models import (
    ApprovalScope,
    ApprovalStep,
    StepStatus,
    Transfer,
    TransferKind,
    TransferLine,
    TransferStatus,
)
from chainstore.transfers.services.approvals import finish_approval
from chainstore.transfers.services.events import add_event
from chainstore.transfers.services.rules import levels_of, matching_rule

EDITABLE = (TransferStatus.DRAFT, TransferStatus.RETURNED)
# Before anything has left the source (picking is undone by execution's release).
CANCELLABLE = (
    TransferStatus.DRAFT,
    TransferStatus.PENDING_APPROVAL,
    TransferStatus.RETURNED,
    TransferStatus.APPROVED,
    TransferStatus.PICKING,
)
_UNSET: Any = object()


# -- kinds and permissions -------------------------------------------------------------------
def _in_scope(actor: Any, site: Site) -> bool:
    allowed = scope_site_ids(actor)
    return allowed is None or site.pk in allowed


def derive_kind(source: Site, destination: Site, actor: Any) -> str:
    if source.pk == destination.pk:
        raise ValidationFailed(
            _("Source and destination must be two different sites."), code="same_site"
        )
    if source.is_warehouse and destination.is_warehouse:
        return TransferKind.WAREHOUSE_TO_WAREHOUSE
    if not source.is_warehouse and not destination.is_warehouse:
        return TransferKind.STORE_TO_STORE
    if not source.is_warehouse:
        raise ValidationFailed(
            _("A store cannot transfer to a warehouse here; use a return to the warehouse."),
            code="unsupported_route",
        )
    return TransferKind.REPLENISHMENT if _in_scope(actor, destination) else TransferKind.PUSH


def ensure_can_request(actor: Any, transfer_kind: str, source: Site, destination: Site) -> None:
    """The requester's site: destination (replenishment), source (push), either end."""
    if transfer_kind == TransferKind.REPLENISHMENT:
        ensure_can(actor, "transfers.request", sites=[destination.pk])
    elif transfer_kind == TransferKind.PUSH:
        ensure_can(actor, "transfers.request", sites=[source.pk])
    else:
        ensure_can(actor, "transfers.request")
        if not (_in_scope(actor, source) or _in_scope(actor, destination)):
            ensure_can(actor, "transfers.request", sites=[destination.pk])


def _lines(lines: Sequence[tuple[Sku, int]]) -> list[tuple[Sku, int]]:
    """Validated lines, one per SKU (repeats are added up), in the order first given."""
    if not lines:
        raise ValidationFailed(_("Add at least one line."), code="empty_document")
    merged: dict[int, tuple[Sku, int]] = {}
    for index, (sku, quantity) in enumerate(lines, start=1):
        if quantity <= 0:
            raise ValidationFailed(
                _("Quantity must be greater than zero."),
                code="invalid_quantity",
                line=index,
                sku=sku.code,
            )
        if not sku.is_active:
            raise ValidationFailed(
                _("This SKU is inactive."), code="inactive_sku", line=index, sku=sku.code
            )
        prior = merged.get(sku.pk)
        merged[sku.pk] = (sku, quantity + (prior[1] if prior else 0))
    return list(merged.values())


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ValidationFailed(
            _("The reason is too long (300 characters at most)."), code="reason_too_long"
        )
    return reason


# -- create / edit -----------------------------------------------------------------------------
@transaction.atomic
def create_transfer(
    *,
    source: Site,
    destination: Site,
    lines: Sequence[tuple[Sku, int]],
    actor: Any,
    needed_by: dt.date | None = None,
    reason: str = "",
    submit: bool = False,
    kind: str | None = None,
) -> Transfer:
    """A new request (DRAFT), or submitted at once with `submit=True`. `kind` may be given
    only for warehouse -> store (push vs replenishment); otherwise it follows the sites."""
    derived = derive_kind(source, destination, actor)
    if kind and kind != derived:
        pair = {TransferKind.REPLENISHMENT, TransferKind.PUSH}
        if not (kind in pair and derived in pair):
            raise ValidationFailed(
                _("This kind does not fit the two sites."), code="kind_mismatch", kind=kind
            )
        derived = kind
    ensure_can_request(actor, derived, source, destination)
    clean = _lines(lines)
    transfer = Transfer.objects.create(
        number=numbers.provisional(),
        kind=derived,
        status=TransferStatus.DRAFT,
        source=source,
        destination=destination,
        needed_by=needed_by,
        reason=_check_reason(reason),
        requested_by=actor,
    )
    numbers.assign(transfer, "TR")
    TransferLine.objects.bulk_create(
        TransferLine(transfer=transfer, sku=sku, quantity=q) for sku, q in clean
    )
    add_event(transfer, "requested", actor=actor, lines=len(clean))
    audit.record(
        actor=actor,
        action="transfer.create",
        obj=transfer,
        to_state=TransferStatus.DRAFT,
        site_id=destination.pk,
        data={"number": transfer.number, "kind": derived, "lines": len(clean)},
    )
    if submit:
        _submit(transfer, actor)
    return transfer


def _lock_own(transfer: Transfer, actor: Any, statuses: Sequence[str]) -> Transfer:
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if locked.requested_by_id != actor.pk:
        raise PermissionDenied(
            _("Only the requester may change or submit this request."), code="not_requester"
        )
    ensure_can(actor, "transfers.request")
    if locked.status not in statuses:
        raise InvalidState(
            _("Only a draft or a returned request can be changed."),
            code="not_editable",
            status=locked.status,
        )
    return locked


@transaction.atomic
def update_transfer(
    transfer: Transfer,
    *,
    actor: Any,
    lines: Sequence[tuple[Sku, int]] | None = None,
    needed_by: Any = _UNSET,
    reason: str | None = None,
) -> Transfer:
    """Edit a draft or returned request (requester only); lines given replace all lines."""
    transfer = _lock_own(transfer, actor, EDITABLE)
    changed: dict[str, Any] = {}
    if needed_by is not _UNSET and needed_by != transfer.needed_by:
        changed["needed_by"] = [str(transfer.needed_by or ""), str(needed_by or "")]
        transfer.needed_by = needed_by
    if reason is not None and reason.strip() != transfer.reason:
        changed["reason"] = [transfer.reason, _check_reason(reason)]
        transfer.reason = reason.strip()
    transfer.save(update_fields=["needed_by", "reason"])
    if lines is not None:
        clean = _lines(lines)
        before = {ln.sku.code: ln.quantity for ln in transfer.lines.select_related("sku")}
        after = {sku.code: q for sku, q in clean}
        if before != after:
            transfer.lines.all().delete()
            TransferLine.objects.bulk_create(
                TransferLine(transfer=transfer, sku=sku, quantity=q) for sku, q in clean
            )
            changed["lines"] = [before, after]
    if changed:
        add_event(transfer, "edited", actor=actor, fields=sorted(changed))
        audit.record(
            actor=actor,
            action="transfer.update",
            obj=transfer,
            site_id=transfer.destination_id,
            data={"number": transfer.number, "changes": changed},
        )
    return transfer


# -- submit ------------------------------------------------------------------------------------
def transfer_value_fen(transfer: Transfer) -> int:
    """The lines at the source's moving-average cost (0 for SKUs the source never held)."""
    rows = list(transfer.lines.values_list("sku_id", "quantity"))
    costs = dict(
        SiteSku.objects.filter(
            site_id=transfer.source_id, sku_id__in=[s for s, _q in rows]
        ).values_list("sku_id", "avg_cost_micros")
    )
    return sum(value_fen(q, costs.get(sku_id, 0)) for sku_id, q in rows)


@transaction.atomic
def submit(transfer: Transfer, *, actor: Any) -> Transfer:
    """Send a draft or returned request into approval (requester only)."""
    transfer = _lock_own(transfer, actor, EDITABLE)
    _submit(transfer, actor)
    return transfer


def _submit(transfer: Transfer, actor: Any) -> None:
    before = transfer.status
    transfer.value_fen = transfer_value_fen(transfer)
    transfer.submitted_at = timezone.now()
    # A resubmission starts a new round; what the old round still had open is superseded.
    ApprovalStep.objects.filter(
        transfer=transfer, status__in=(StepStatus.WAITING, StepStatus.PENDING)
    ).update(status=StepStatus.SUPERSEDED)
    last = ApprovalStep.objects.filter(transfer=transfer).aggregate(m=Max("round"))["m"] or 0
    rule = matching_rule(transfer)
    transfer.status = TransferStatus.PENDING_APPROVAL
    transfer.save(update_fields=["value_fen", "submitted_at", "status"])
    steps = []
    if rule is not None:
        scope_site: dict[str, int] = {
            ApprovalScope.SOURCE: transfer.source_id,
            ApprovalScope.DESTINATION: transfer.destination_id,
        }
        steps = ApprovalStep.objects.bulk_create(
            ApprovalStep(
                transfer=transfer,
                round=last + 1,
                seq=level.seq,
                rule=rule,
                name=level.name,
                role=level.role,
                scope_site_id=scope_site.get(level.scope),
                status=StepStatus.PENDING if index == 0 else StepStatus.WAITING,
            )
            for index, level in enumerate(levels_of(rule))
        )
    add_event(
        transfer,
        "submitted",
        actor=actor,
        round=last + 1,
        value_fen=transfer.value_fen,
        rule=rule.name if rule else "",
        levels=len(steps),
    )
    audit.record(
        actor=actor,
        action="transfer.submit",
        obj=transfer,
        from_state=before,
        to_state=transfer.status,
        site_id=transfer.destination_id,
        data={
            "number": transfer.number,
            "round": last + 1,
            "value_fen": transfer.value_fen,
            "rule_id": rule.pk if rule else None,
        },
    )
    if rule is None:
        finish_approval(transfer, actor)


# -- cancel ------------------------------------------------------------------------------------
@transaction.atomic
def cancel_transfer(transfer: Transfer, *, actor: Any, reason: str = "") -> Transfer:
    """Cancel before shipping: by the requester, or by a requester-role user at either end.
    Open approval steps are superseded; stock reserved or picked for it is released."""
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.requested_by_id != actor.pk:
        ensure_can(actor, "transfers.request")
        if not (_in_scope(actor, transfer.source) or _in_scope(actor, transfer.destination)):
            ensure_can(actor, "transfers.request", sites=[transfer.destination_id])
    if transfer.status not in CANCELLABLE:
        raise InvalidState(
            _("Only a transfer that has not shipped can be cancelled."),
            code="not_cancellable",
            status=transfer.status,
        )
    before = transfer.status
    if before in (TransferStatus.APPROVED, TransferStatus.PICKING):
        _release(transfer, actor)
    ApprovalStep.objects.filter(
        transfer=transfer, status__in=(StepStatus.WAITING, StepStatus.PENDING)
    ).update(status=StepStatus.SUPERSEDED)
    transfer.status = TransferStatus.CANCELLED
    transfer.closed_at = timezone.now()
    transfer.save(update_fields=["status", "closed_at"])
    reason = _check_reason(reason)
    add_event(transfer, "cancelled", actor=actor, reason=reason)
    audit.record(
        actor=actor,
        action="transfer.cancel",
        obj=transfer,
        from_state=before,
        to_state=transfer.status,
        site_id=transfer.destination_id,
        data={"number": transfer.number, "reason": reason},
    )
    return transfer


def _release(transfer: Transfer, actor: Any) -> None:
    """Execution gives back reservations and picked stock (imported late, as above)."""
    from chainstore.transfers.services import execution

    execution.release_transfer(transfer, actor)


# -- suggestion from a safety-stock alert ------------------------------------------------------
@dataclass
class SourceOption:
    site: Site
    available: int
    distance_km: float | None


@dataclass
class Suggestion:
    site: Site
    sku: Sku
    safety_stock: int | None
    available: int  # at the site short of stock (on hand - reserved, as the alert counts)
    quantity: int  # suggested, whole units, at least one
    source: Site | None
    options: list[SourceOption] = field(default_factory=list)


def _site_available(site: Site, sku: Sku) -> int:
    totals = Balance.objects.filter(site=site, sku=sku).aggregate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved")
    )
    return (totals["on_hand"] or 0) - (totals["reserved"] or 0)


def _distance(a: Site, b: Site) -> float | None:
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return None
    return distance_km(float(a.latitude), float(a.longitude), float(b.latitude), float(b.longitude))


def suggest_from_alert(*, site: Site, sku: Sku, actor: Any) -> Suggestion:
    """What the one-click request from "below safety stock" proposes: the gap (safety stock
    minus available) rounded up to whole units, at least one; the source is the first site
    with stock that can cover it, warehouses before stores and nearer before farther (when
    none can cover it all, the one with the most available)."""
    ensure_can(actor, "transfers.request", sites=[site.pk])
    safety = (
        SiteSku.objects.filter(site=site, sku=sku).values_list("safety_stock", flat=True).first()
    )
    available = _site_available(site, sku)
    gap = max(0, (safety or 0) - available)
    quantity = max(1, math.ceil(gap / QTY_SCALE)) * QTY_SCALE
    others = list(Site.objects.filter(is_active=True).exclude(pk=site.pk))
    stock = available_to_promise(
        site_ids=[s.pk for s in others], sku_ids=[sku.pk], today=timezone.localdate()
    )
    options = [
        SourceOption(site=s, available=stock[(s.pk, sku.pk)], distance_km=_distance(site, s))
        for s in others
        if stock.get((s.pk, sku.pk), 0) > 0 and (s.is_warehouse or not site.is_warehouse)
    ]
    options.sort(
        key=lambda o: (
            not o.site.is_warehouse,
            o.distance_km if o.distance_km is not None else math.inf,
            o.site.code,
        )
    )
    covering = [o for o in options if o.available >= quantity]
    best = covering[0] if covering else max(options, key=lambda o: o.available, default=None)
    return Suggestion(
        site=site,
        sku=sku,
        safety_stock=safety,
        available=available,
        quantity=quantity,
        source=best.site if best else None,
        options=options,
    )
