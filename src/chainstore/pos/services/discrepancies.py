"""Stock discrepancies: a sale the ledger said was short (the store's "allow" policy) left
on hand negative and asks for a recount.

Lifecycle: open → counting (a SKU-set count of the store was started and frozen through
the counts services; its id is kept) → resolved (that count was approved, so the book
quantity of the SKU now is what was counted). If the count is cancelled instead, the
discrepancy goes back to open.

Resolution mechanism: the counts app knows nothing of the POS, so nothing is hooked into
its approval. Instead `resolve_counted_discrepancies` (run before every list of a store's
discrepancies, and callable on demand, e.g. after an approval or from a task) compares the
discrepancies being counted with the state of their counts: one indexed query, idempotent,
and nothing is resolved unless its count really was approved. `resolve_discrepancy`
resolves one on demand with the same rule (409 while its count is not approved).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import InvalidState, ValidationFailed
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.counts.models import CountScope, CountStatus, StockCount
from chainstore.counts.services import create_count, freeze_count
from chainstore.pos.models import DiscrepancyStatus, StockDiscrepancy
from chainstore.sites.models import Site

__all__ = ["resolve_counted_discrepancies", "resolve_discrepancy", "start_recount"]


def start_recount(*, discrepancies: Sequence[StockDiscrepancy], actor: Any) -> StockCount:
    """Start one SKU-set count at the store for the discrepancies' SKUs (created and frozen,
    status counting). Every other open discrepancy of those SKUs at the store joins it."""
    if not discrepancies:
        raise ValidationFailed(_("Choose at least one discrepancy."), code="empty_document")
    site_ids = {d.site_id for d in discrepancies}
    if len(site_ids) != 1:
        raise ValidationFailed(
            _("Recount the discrepancies of one store at a time."), code="mixed_stores"
        )
    site = Site.objects.get(pk=site_ids.pop())
    ensure_can(actor, "pos.discrepancy", sites=[site.pk])
    ensure_can(actor, "count.manage", sites=[site.pk])
    ids = sorted({d.pk for d in discrepancies})
    with transaction.atomic():
        chosen = list(
            StockDiscrepancy.objects.select_for_update()
            .filter(pk__in=ids)
            .select_related("sku")
            .order_by("pk")
        )
        not_open = [d.pk for d in chosen if d.status != DiscrepancyStatus.OPEN]
        if not_open:
            raise InvalidState(
                _("Only open discrepancies can be recounted."),
                code="discrepancy_not_open",
                discrepancies=not_open,
            )
        skus = list({d.sku_id: d.sku for d in chosen}.values())
        codes = ", ".join(sorted(s.code for s in skus))
        name = (_("Recount after short sale: %(skus)s") % {"skus": codes})[:100]
        count = create_count(site=site, name=name, scope=CountScope.SKUS, skus=skus, actor=actor)
        count = freeze_count(count=count, actor=actor)
        joined = list(
            StockDiscrepancy.objects.select_for_update()
            .filter(site=site, sku_id__in=[s.pk for s in skus], status=DiscrepancyStatus.OPEN)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        StockDiscrepancy.objects.filter(pk__in=joined).update(
            status=DiscrepancyStatus.COUNTING, count_id=count.pk
        )
        for pk in joined:
            audit.record(
                actor=actor,
                action="pos.discrepancy.recount",
                object_type="pos.stockdiscrepancy",
                object_id=pk,
                from_state=DiscrepancyStatus.OPEN,
                to_state=DiscrepancyStatus.COUNTING,
                site_id=site.pk,
                data={"count": count.pk},
            )
    return count


def resolve_counted_discrepancies(*, actor: Any, store: Site | None = None) -> int:
    """Resolve the discrepancies (of one store, or every store in the actor's scope) whose
    count was approved; reopen those whose count was cancelled. Returns how many changed.
    Idempotent."""
    ensure_can(actor, "pos.discrepancy", sites=[store.pk] if store else [])
    counting = StockDiscrepancy.objects.filter(
        status=DiscrepancyStatus.COUNTING, count_id__isnull=False
    )
    if store is not None:
        counting = counting.filter(site=store)
    allowed = scope_site_ids(actor)
    if allowed is not None:
        counting = counting.filter(site_id__in=allowed)
    finished = dict(
        StockCount.objects.filter(
            pk__in=counting.values("count_id"),
            status__in=[CountStatus.APPROVED, CountStatus.CANCELLED],
        ).values_list("pk", "status")
    )
    if not finished:
        return 0
    with transaction.atomic():
        rows = list(counting.select_for_update().filter(count_id__in=list(finished)).order_by("pk"))
        for row in rows:
            _finish(row, finished[row.count_id or 0], actor)
    return len(rows)


def resolve_discrepancy(*, discrepancy: StockDiscrepancy, actor: Any) -> StockDiscrepancy:
    """Resolve one discrepancy now that its recount was approved (409 before that)."""
    ensure_can(actor, "pos.discrepancy", sites=[discrepancy.site_id])
    with transaction.atomic():
        row = StockDiscrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        if row.status == DiscrepancyStatus.RESOLVED:
            return row
        status = (
            StockCount.objects.filter(pk=row.count_id).values_list("status", flat=True).first()
            if row.count_id
            else None
        )
        if row.status != DiscrepancyStatus.COUNTING or status != CountStatus.APPROVED:
            raise InvalidState(
                _("Resolve a discrepancy once its recount is approved."),
                code="recount_not_approved",
                discrepancy=row.pk,
                count=row.count_id,
                count_status=status,
            )
        _finish(row, status, actor)
    return row


def _finish(row: StockDiscrepancy, count_status: str, actor: Any) -> None:
    before, count_id = row.status, row.count_id
    if count_status == CountStatus.APPROVED:
        row.status = DiscrepancyStatus.RESOLVED
        row.resolved_at = timezone.now()
    else:  # the count was cancelled: the recount is still due
        row.status = DiscrepancyStatus.OPEN
        row.count_id = None
    row.save(update_fields=["status", "resolved_at", "count_id"])
    audit.record(
        actor=actor,
        action="pos.discrepancy.resolve"
        if row.status == DiscrepancyStatus.RESOLVED
        else "pos.discrepancy.reopen",
        obj=row,
        from_state=before,
        to_state=row.status,
        site_id=row.site_id,
        data={"count": count_id, "count_status": count_status},
    )
