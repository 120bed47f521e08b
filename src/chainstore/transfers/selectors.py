"""Transfer reads, scoped by the actor: a transfer is visible to whoever holds
`transfers.view` at its source or its destination (chain-wide roles see all)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from chainstore.core.errors import NotFound, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm, role_of, scope_site_ids
from chainstore.sites.models import Site
from chainstore.transfers.models import (
    ApprovalRule,
    ApprovalStep,
    StepStatus,
    Transfer,
    TransferEvent,
    TransferLine,
    TransferStatus,
)
from chainstore.transfers.services.approvals import refusal


@dataclass(frozen=True)
class TransferFilter:
    status: str = ""
    kind: str = ""
    site: str = ""  # code of the source or the destination
    search: str = ""  # number, SKU code or name, reason


def _scoped(qs: QuerySet[Transfer], actor: Any) -> QuerySet[Transfer]:
    allowed = scope_site_ids(actor)
    if allowed is None:
        return qs
    return qs.filter(Q(source_id__in=allowed) | Q(destination_id__in=allowed))


def list_transfers(*, actor: Any, filters: TransferFilter | None = None) -> QuerySet[Transfer]:
    ensure_can(actor, "transfers.view")
    filters = filters or TransferFilter()
    qs = _scoped(Transfer.objects.all(), actor)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.site:
        qs = qs.filter(Q(source__code=filters.site) | Q(destination__code=filters.site))
    if filters.search:
        term = filters.search.strip()
        matching_lines = TransferLine.objects.filter(
            Q(sku__code__icontains=term) | Q(sku__name__icontains=term)
        ).values("transfer_id")
        qs = qs.filter(
            Q(number__icontains=term) | Q(reason__icontains=term) | Q(pk__in=matching_lines)
        )
    return (
        qs.select_related("source", "destination", "requested_by")
        .annotate(line_count=Count("lines"))
        .order_by("-id")
    )


def count_by_status(*, actor: Any) -> dict[str, int]:
    ensure_can(actor, "transfers.view")
    rows = _scoped(Transfer.objects.all(), actor).values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in TransferStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def get_transfer(*, number: str, actor: Any) -> Transfer:
    ensure_can(actor, "transfers.view")
    transfer = (
        Transfer.objects.select_related("source", "destination", "requested_by")
        .filter(number=number)
        .first()
    )
    if transfer is None:
        raise NotFound(_("Transfer not found."), code="transfer_not_found", number=number)
    allowed = scope_site_ids(actor)
    if allowed is not None and not {transfer.source_id, transfer.destination_id} & allowed:
        raise PermissionDenied(code="site_out_of_scope", number=number)
    return transfer


@dataclass
class Round:
    number: int
    steps: list[ApprovalStep]


@dataclass
class TransferDetail:
    transfer: Transfer
    lines: list[TransferLine]
    rounds: list[Round]  # newest first
    events: list[TransferEvent]
    current_step: ApprovalStep | None
    total_quantity: int = 0


def transfer_detail(transfer: Transfer) -> TransferDetail:
    """Lines (with shipped / received / in-transit figures), the approval chain by round
    and the timeline, in a fixed number of queries."""
    lines = list(transfer.lines.select_related("sku").order_by("id"))
    steps = list(
        ApprovalStep.objects.filter(transfer=transfer)
        .select_related("decided_by", "scope_site")
        .order_by("-round", "seq")
    )
    rounds = [
        Round(number=n, steps=list(group)) for n, group in groupby(steps, key=lambda s: s.round)
    ]
    current = next(
        (
            s
            for s in steps
            if s.status == StepStatus.PENDING and transfer.status == TransferStatus.PENDING_APPROVAL
        ),
        None,
    )
    if current is not None:
        current.transfer = transfer
    events = list(transfer.events.select_related("actor").order_by("at", "id"))
    return TransferDetail(
        transfer=transfer,
        lines=lines,
        rounds=rounds,
        events=events,
        current_step=current,
        total_quantity=sum(line.quantity for line in lines),
    )


def get_step(*, transfer: Transfer, step_id: int) -> ApprovalStep:
    step = ApprovalStep.objects.filter(transfer=transfer, pk=step_id).first()
    if step is None:
        raise NotFound(code="step_not_found", step=step_id)
    return step


def can_decide(step: ApprovalStep | None, actor: Any) -> bool:
    return step is not None and refusal(step, actor) is None


# -- approvals inbox -------------------------------------------------------------------------
def inbox(actor: Any) -> list[ApprovalStep]:
    """Pending steps the actor may decide now, oldest submission first."""
    role = role_of(actor)
    if role is None or not has_perm(actor, "transfers.approve"):
        return []
    qs = (
        ApprovalStep.objects.filter(
            status=StepStatus.PENDING,
            role=role,
            transfer__status=TransferStatus.PENDING_APPROVAL,
        )
        .exclude(transfer__requested_by=actor)
        .select_related(
            "transfer",
            "transfer__source",
            "transfer__destination",
            "transfer__requested_by",
            "scope_site",
        )
        .order_by("transfer__submitted_at", "transfer_id")
    )
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(scope_site_id__in=allowed)
    decided = set(
        ApprovalStep.objects.filter(
            decided_by=actor, transfer__status=TransferStatus.PENDING_APPROVAL
        ).values_list("transfer_id", "round")
    )
    return [s for s in qs if (s.transfer_id, s.round) not in decided]


def pending_count(actor: Any) -> int:
    return len(inbox(actor))


# -- rules -------------------------------------------------------------------------------------
def list_rules(*, actor: Any) -> QuerySet[ApprovalRule]:
    ensure_can(actor, "transfers.rules")
    return ApprovalRule.objects.prefetch_related(
        "levels", "source_sites", "destination_sites", "categories"
    ).order_by("priority", "id")


def get_rule(*, rule_id: int, actor: Any) -> ApprovalRule:
    ensure_can(actor, "transfers.rules")
    rule = (
        ApprovalRule.objects.prefetch_related(
            "levels", "source_sites", "destination_sites", "categories"
        )
        .filter(pk=rule_id)
        .first()
    )
    if rule is None:
        raise NotFound(code="rule_not_found", rule_id=rule_id)
    return rule


def find_site(code: str) -> Site | None:
    """A site by code for naming the other end of a transfer, which may lie outside the
    requester's scope (a store asks a warehouse it cannot otherwise see)."""
    return Site.objects.filter(code=code, is_active=True).first()
