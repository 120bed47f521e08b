"""Stock count API (盘点): create, freeze, record by scan, recount, approve, cancel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from chainstore.catalog.models import Sku
from chainstore.catalog.selectors import get_sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.quantities import qty_to_milli
from chainstore.counts import selectors, services
from chainstore.counts.resolve import EntryRow, resolve_rows
from chainstore.counts.schemas import (
    BatchOut,
    CountDetailOut,
    CountIn,
    CountOut,
    CountPageOut,
    EntryBatchIn,
    EntryIn,
    LineOut,
    LinePageOut,
    RecountIn,
    SummaryOut,
)
from chainstore.sites.models import Zone
from chainstore.sites.selectors import get_site

router = Router()

KEY = Header(
    None, alias="Idempotency-Key", description="Client key; replays return the first result"
)


def _row(entry: EntryIn) -> EntryRow:
    return EntryRow(
        location=entry.location,
        quantity=qty_to_milli(entry.quantity),
        scan=entry.scan,
        sku=entry.sku,
        lot=entry.lot,
        replace=entry.replace,
        client_key=entry.client_key,
    )


def _detail(count: Any, *, lines: bool, show: str) -> CountDetailOut:
    out = CountOut.of(count).dict()
    views = (
        selectors.line_views(count, list(selectors.list_lines(count=count, show=show)))
        if lines
        else []
    )
    return CountDetailOut(
        **out,
        summary=SummaryOut.of(selectors.count_summary(count)),
        lines=[LineOut.of(v) for v in views],
    )


@router.post("", response={201: CountOut})
def create_count(request: HttpRequest, payload: CountIn) -> Any:
    """Create a draft count of a whole site, one zone, or a set of SKUs."""
    site = get_site(code=payload.site, actor=request.user)
    zone = None
    if payload.zone:
        zone = Zone.objects.filter(site=site, code=payload.zone).first()
        if zone is None:
            raise ValidationFailed(_("No such zone at this site."), code="invalid_zone")
    skus: list[Sku] = [get_sku(code=code) for code in dict.fromkeys(payload.skus)]
    count = services.create_count(
        site=site,
        name=payload.name,
        scope=payload.scope,
        zone=zone,
        skus=skus,
        actor=request.user,
    )
    return Status(201, CountOut.of(selectors.get_count(count_id=count.pk, actor=request.user)))


@router.get("", response=CountPageOut)
def list_counts(
    request: HttpRequest,
    site: str | None = None,
    status: str = "",
    limit: int = 100,
    offset: int = 0,
) -> Any:
    """Counts in your scope, newest first; filter by site code and status."""
    site_obj = get_site(code=site, actor=request.user) if site else None
    qs = selectors.list_counts(actor=request.user, site=site_obj, status=status)
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    return CountPageOut(
        count=qs.count(), items=[CountOut.of(c) for c in qs[offset : offset + limit]]
    )


@router.get("/{count_id}", response=CountDetailOut)
def get_count(request: HttpRequest, count_id: int, lines: bool = True, show: str = "all") -> Any:
    """A count with its variance summary (value at moving-average cost, accuracy) and lines.
    `show`: all | pending | counted | variance | recount; `lines=false` for the summary only."""
    if show not in selectors.LINE_FILTERS:
        raise ValidationFailed(_("Unknown line filter."), code="invalid_filter")
    count = selectors.get_count(count_id=count_id, actor=request.user)
    return _detail(count, lines=lines, show=show)


@router.get("/{count_id}/lines", response=LinePageOut)
def list_lines(
    request: HttpRequest, count_id: int, show: str = "all", limit: int = 100, offset: int = 0
) -> Any:
    """A page of a count's lines (for big counts), by location and SKU code."""
    if show not in selectors.LINE_FILTERS:
        raise ValidationFailed(_("Unknown line filter."), code="invalid_filter")
    count = selectors.get_count(count_id=count_id, actor=request.user)
    qs = selectors.list_lines(count=count, show=show)
    limit, offset = max(1, min(limit, 1000)), max(0, offset)
    views = selectors.line_views(count, list(qs[offset : offset + limit]))
    return LinePageOut(count=qs.count(), items=[LineOut.of(v) for v in views])


@router.post("/{count_id}/freeze", response=CountOut)
def freeze(request: HttpRequest, count_id: int) -> Any:
    """Start counting: freeze the snapshot of book stock in scope."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    services.freeze_count(count=count, actor=request.user)
    return CountOut.of(selectors.get_count(count_id=count_id, actor=request.user))


@router.post("/{count_id}/entries", response={201: LineOut})
def record_entry(request: HttpRequest, count_id: int, payload: EntryIn) -> Any:
    """Record one counted quantity by scan (GS1 gives the lot) or SKU code + lot."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    (entry,) = resolve_rows(count, [_row(payload)])
    line = services.record_entries(count=count, entries=[entry], actor=request.user)[0]
    line = selectors.list_lines(count=count).get(pk=line.pk)
    return Status(201, LineOut.of(selectors.line_views(count, [line])[0]))


@router.post("/{count_id}/entries/batch", response={201: BatchOut})
def record_batch(request: HttpRequest, count_id: int, payload: EntryBatchIn) -> Any:
    """Upload many entries at once (a scanner's batch); all or nothing."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    entries = resolve_rows(count, [_row(e) for e in payload.entries])
    lines = services.record_entries(count=count, entries=entries, actor=request.user)
    return Status(201, BatchOut(recorded=len(entries), lines=len({ln.pk for ln in lines})))


@router.post("/{count_id}/recount", response=CountDetailOut)
def recount(request: HttpRequest, count_id: int, payload: RecountIn) -> Any:
    """Send lines back for a recount (default: every line with a variance)."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    services.request_recount(count=count, actor=request.user, line_ids=payload.lines)
    return _detail(count, lines=True, show="recount")


@router.post("/{count_id}/approve", response={200: CountDetailOut, 201: CountDetailOut})
def approve(request: HttpRequest, count_id: int, idempotency_key: str | None = KEY) -> Any:
    """Post the variances as one count operation. Needs an Idempotency-Key header;
    201 on approval, 200 with `replayed: true` on a replay."""
    if not idempotency_key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header to approve a count."),
            code="idempotency_key_required",
        )
    count = selectors.get_count(count_id=count_id, actor=request.user)
    approved = services.approve_count(
        count=count, actor=request.user, idempotency_key=idempotency_key
    )
    replayed = getattr(approved, "replayed", False)
    fresh = selectors.get_count(count_id=count_id, actor=request.user)
    fresh.replayed = replayed  # type: ignore[attr-defined]
    return Status(200 if replayed else 201, _detail(fresh, lines=False, show="all"))


@router.post("/{count_id}/cancel", response=CountOut)
def cancel(request: HttpRequest, count_id: int) -> Any:
    count = selectors.get_count(count_id=count_id, actor=request.user)
    services.cancel_count(count=count, actor=request.user)
    return CountOut.of(selectors.get_count(count_id=count_id, actor=request.user))
