"""Count pages: list, create, detail with variance review, phone-first counting screen.
Thin: reads through selectors, writes through services; refusals become messages."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chainstore.catalog.models import Sku
from chainstore.core.errors import DomainError, ValidationFailed
from chainstore.core.permissions import has_perm
from chainstore.core.quantities import qty_to_milli
from chainstore.sites.models import Zone
from chainstore.sites.selectors import get_site, list_sites
from chainstore.web.errors import describe
from chainstore.web.http import page_view, paginate

from . import selectors, services
from .ledger import scope_locations
from .models import CountEntry, CountScope, CountStatus
from .resolve import EntryRow, resolve_rows

RECENT_ENTRIES = 8


@page_view
def index(request: HttpRequest) -> HttpResponse:
    sites = list(list_sites(actor=request.user))
    code = request.GET.get("site", "").strip()
    site = get_site(code=code, actor=request.user) if code else None
    status = request.GET.get("status", "")
    counts = selectors.list_counts(
        actor=request.user, site=site, status=status if status in CountStatus.values else ""
    )
    return render(
        request,
        "counts/list.html",
        {
            "page": paginate(request, counts),
            "sites": sites,
            "site": site,
            "status": status,
            "statuses": CountStatus.choices,
            "can_manage": has_perm(request.user, "count.manage"),
        },
    )


@page_view
def create(request: HttpRequest) -> HttpResponse:
    sites = list(list_sites(actor=request.user))
    zones = Zone.objects.filter(site__in=sites).select_related("site").order_by("site", "code")
    values: dict[str, Any] = {"scope": CountScope.FULL}
    if request.method == "POST":
        values = request.POST.dict()
        try:
            count = _create(request)
        except DomainError as exc:
            messages.error(request, describe(exc))
        else:
            messages.success(request, _("Count created. Freeze it to start counting."))
            return redirect("counts:detail", count_id=count.pk)
    return render(
        request,
        "counts/create.html",
        {"sites": sites, "zones": zones, "scopes": CountScope.choices, "values": values},
    )


def _create(request: HttpRequest) -> Any:
    site = get_site(code=request.POST.get("site", ""), actor=request.user)
    scope = request.POST.get("scope", CountScope.FULL)
    zone = None
    if scope == CountScope.ZONE:
        zone_id = _int(request.POST.get("zone"))
        zone = Zone.objects.filter(site=site, pk=zone_id).first() if zone_id else None
    codes = [c for c in request.POST.get("skus", "").replace(",", " ").split() if c]
    skus = list(Sku.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {s.code for s in skus})
    if missing:
        raise ValidationFailed(
            _("Unknown SKU codes: %(codes)s") % {"codes": ", ".join(missing)},
            code="sku_not_found",
        )
    return services.create_count(
        site=site,
        name=request.POST.get("name", ""),
        scope=scope,
        zone=zone,
        skus=skus,
        actor=request.user,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@page_view
def detail(request: HttpRequest, count_id: int) -> HttpResponse:
    count = selectors.get_count(count_id=count_id, actor=request.user)
    show = request.GET.get("show", "all")
    show = show if show in selectors.LINE_FILTERS else "all"
    search = request.GET.get("q", "").strip()
    page = paginate(request, selectors.list_lines(count=count, show=show, search=search), 50)
    return render(
        request,
        "counts/detail.html",
        {
            "count": count,
            "summary": selectors.count_summary(count),
            "rows": selectors.line_views(count, list(page.object_list)),
            "page": page,
            "show": show,
            "q": search,
            "filters": [
                ("all", _("All")),
                ("pending", _("Not counted")),
                ("counted", _("Counted")),
                ("variance", _("Variances")),
                ("recount", _("Recount")),
            ],
            "approve_key": uuid.uuid4().hex,
            "can_manage": has_perm(request.user, "count.manage"),
            "can_record": has_perm(request.user, "count.record"),
            "can_approve": has_perm(request.user, "count.approve"),
        },
    )


@require_POST
@page_view
def action(request: HttpRequest, count_id: int, name: str) -> HttpResponse:
    """freeze | cancel | recount | approve, each a service call; refusals become messages."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    done = {
        "freeze": _("Snapshot frozen; counting has started."),
        "cancel": _("Count cancelled."),
        "recount": _("Lines sent back for a recount."),
        "approve": _("Count approved; variances posted."),
    }
    try:
        if name == "freeze":
            services.freeze_count(count=count, actor=request.user)
        elif name == "cancel":
            services.cancel_count(count=count, actor=request.user)
        elif name == "recount":
            ids = [i for i in (_int(v) for v in request.POST.getlist("line")) if i is not None]
            services.request_recount(count=count, actor=request.user, line_ids=ids or None)
        elif name == "approve":
            services.approve_count(
                count=count,
                actor=request.user,
                idempotency_key=request.POST.get("idempotency_key") or uuid.uuid4().hex,
            )
        else:
            raise ValidationFailed(code="unknown_action")
    except DomainError as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(request, done[name])
    return redirect("counts:detail", count_id=count.pk)


@page_view
def scan(request: HttpRequest, count_id: int) -> HttpResponse:
    """The counting screen: pick the location, then scan; each scan adds one entry."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    locations = scope_locations(count).order_by("code")
    return render(
        request,
        "counts/scan.html",
        {
            "count": count,
            "locations": locations,
            "location": request.GET.get("location", ""),
            "summary": selectors.count_summary(count),
            "recent": _recent(count, request.user),
            "client_key": uuid.uuid4().hex,
        },
    )


@require_POST
@page_view
def record(request: HttpRequest, count_id: int) -> HttpResponse:
    """htmx: record one scan; answers the result fragment (also on refusal)."""
    count = selectors.get_count(count_id=count_id, actor=request.user)
    context: dict[str, Any] = {"count": count}
    try:
        quantity = _quantity(request.POST.get("quantity", "1"))
        raw = request.POST.get("scan", "").strip()
        if not raw:
            raise ValidationFailed(_("Scan a barcode first."), code="empty_scan")
        row = EntryRow(
            location=request.POST.get("location", ""),
            quantity=quantity,
            scan=raw,
            lot=request.POST.get("lot", "").strip() or None,
            replace=request.POST.get("replace") == "on",
            client_key=request.POST.get("client_key") or None,
        )
        entries = resolve_rows(count, [row])
        line = services.record_entries(count=count, entries=entries, actor=request.user)[0]
        context["line"] = selectors.list_lines(count=count).get(pk=line.pk)
        context["entry"] = entries[0]
    except DomainError as exc:
        context["error"] = describe(exc)
    context["recent"] = _recent(count, request.user)
    context["summary"] = selectors.count_summary(count)
    context["next_client_key"] = uuid.uuid4().hex
    # 200 even on a refusal: htmx swaps only 2xx answers, and the fragment shows the error.
    return render(request, "counts/partials/scan_result.html", context)


def _quantity(text: str) -> int:
    try:
        value = qty_to_milli(text.strip() or "1")
    except ValueError:
        raise ValidationFailed(
            _("Enter a quantity like 12 or 1.5."), code="invalid_quantity"
        ) from None
    if value < 0:
        raise ValidationFailed(_("A counted quantity cannot be negative."), code="invalid_quantity")
    return value


def _recent(count: Any, actor: Any) -> list[CountEntry]:
    return list(
        CountEntry.objects.filter(line__count=count, counter_id=getattr(actor, "pk", None))
        .select_related("line__location", "line__sku", "line__lot")
        .order_by("-id")[:RECENT_ENTRIES]
    )
