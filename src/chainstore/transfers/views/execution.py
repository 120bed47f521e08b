"""Screens of transfer execution: ship at the source (pick by scan, then ship), receive at
the destination by scan, open discrepancies with their resolutions, in-transit ageing.

Pages are thin: the services decide and check permission and site scope. The phone screens
(ship, receive) talk to the JSON API through static/transfers/exec.js; the discrepancy page
posts plain forms.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import DomainError, ValidationFailed
from chainstore.core.permissions import has_perm
from chainstore.core.quantities import milli_to_qty, money_to_fen
from chainstore.integrations.carriers.registry import carrier_choices
from chainstore.sites.selectors import get_site
from chainstore.transfers.models import CostBasis, Resolution, TransferStatus
from chainstore.transfers.schemas_execution import (
    ageing_out,
    discrepancy_out,
    task_out,
    transfer_out,
)
from chainstore.transfers.selectors import get_transfer
from chainstore.transfers.services import execution, receiving, tracking
from chainstore.web.errors import describe
from chainstore.web.http import page_view

API = "/api/v1/transfers"


def _texts() -> dict[str, str]:
    return {
        "picked": _("Picked."),
        "shipped": _("Shipped."),
        "received": _("Receipt posted."),
        "failed": _("The request failed; try again."),
        "unknown": _("This item is not on the transfer."),
        "confirm": _("Post the receipt? What is missing becomes a shortage."),
    }


@page_view
def ship_page(request: HttpRequest, number: str) -> HttpResponse:
    """Source side on a phone: the pick list in route order with scan fields, then the
    carrier / freight / handling / basis form and the ship button; the label afterwards."""
    transfer = get_transfer(number=number, actor=request.user)
    parts = execution.pick_list(transfer)
    config = {
        "api": API,
        "csrf": get_token(request),
        "number": transfer.number,
        "tasks": [_json(task_out(p, i)) for i, p in enumerate(parts, start=1)],
        "status": transfer.status,
        "status_labels": {value: str(label) for value, label in TransferStatus.choices},
        "canShip": has_perm(request.user, "transfers.ship"),
        "labelUrl": f"{API}/{transfer.number}/label",
        "text": _texts(),
    }
    context = {
        "transfer": transfer,
        "config": config,
        "carriers": carrier_choices(),
        "bases": CostBasis.choices,
        "shippable": transfer.status in (TransferStatus.APPROVED, TransferStatus.PICKING),
    }
    return render(request, "transfers/ship.html", context)


@page_view
def receive_page(request: HttpRequest, number: str) -> HttpResponse:
    """Destination on a phone: scan items (EAN or GS1 with lot) to count them, mark damaged,
    expected vs counted per line, post; the resulting discrepancies are shown."""
    transfer = get_transfer(number=number, actor=request.user)
    data = transfer_out(transfer)
    lines = [{**_json(ln), "barcodes": _barcodes(ln["id"], transfer)} for ln in data["lines"]]
    config = {
        "api": API,
        "csrf": get_token(request),
        "number": transfer.number,
        "scanUrl": reverse("transfers:receive_scan", args=[transfer.number]),
        "lines": lines,
        "status": transfer.status,
        "status_labels": {value: str(label) for value, label in TransferStatus.choices},
        "text": _texts(),
    }
    open_ = receiving.list_discrepancies(actor=request.user).filter(line__transfer=transfer)
    context = {
        "transfer": transfer,
        "config": config,
        "receivable": transfer.status in (TransferStatus.IN_TRANSIT, TransferStatus.RECEIVED),
        "discrepancies": [discrepancy_out(d) for d in open_],
    }
    return render(request, "transfers/receive.html", context)


def _barcodes(line_id: int, transfer: Any) -> list[str]:
    line = transfer.lines.get(pk=line_id)
    return [*line.sku.barcodes.values_list("code", flat=True), line.sku.code]


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if not isinstance(v, int | str | bool | type(None) | list) else v)
        for k, v in row.items()
    }


@page_view
def receive_scan(request: HttpRequest, number: str) -> HttpResponse:
    """A scan on the receive screen -> the transfer line (and the lot of a GS1 code)."""
    transfer = get_transfer(number=number, actor=request.user)
    try:
        scan = resolve_scan(request.GET.get("code", ""))
    except DomainError as exc:
        return JsonResponse({"code": exc.code, "message": describe(exc)}, status=422)
    line = transfer.lines.filter(sku=scan.sku).order_by("id").first()
    if line is None:
        return JsonResponse(
            {"code": "not_on_transfer", "message": _("This item is not on the transfer.")},
            status=422,
        )
    return JsonResponse({"line_id": line.pk, "sku": scan.sku.code, "lot": scan.lot})


@page_view
def discrepancies_page(request: HttpRequest) -> HttpResponse:
    """Open discrepancies of the actor's sites with their resolution forms."""
    site = (
        get_site(code=request.GET["site"], actor=request.user) if request.GET.get("site") else None
    )
    rows = []
    for d in receiving.list_discrepancies(actor=request.user, site=site)[:300]:
        choices = [(r, Resolution(r).label) for r in receiving.allowed_resolutions(d.kind)]
        rows.append({"d": d, "out": discrepancy_out(d), "choices": choices})
    can_resolve = has_perm(request.user, "transfers.resolve")
    return render(
        request, "transfers/discrepancies.html", {"rows": rows, "can_resolve": can_resolve}
    )


@require_POST
@page_view
def resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = receiving.get_discrepancy(discrepancy_id=pk, actor=request.user)
    try:
        claim = money_to_fen(request.POST.get("claim") or "0")
    except (ValueError, ArithmeticError):
        messages.error(request, describe(ValidationFailed(code="invalid_amount")))
        return redirect("transfers:discrepancies")
    try:
        done = receiving.resolve(
            discrepancy=found,
            actor=request.user,
            resolution=request.POST.get("resolution", ""),
            claim_fen=claim,
            note=request.POST.get("note", "")[:300],
        )
    except DomainError as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(
            request,
            _("Discrepancy of %(qty)s %(sku)s resolved.")
            % {"qty": milli_to_qty(done.quantity), "sku": done.line.sku.code},
        )
    return redirect(request.POST.get("next") or reverse("transfers:discrepancies"))


@page_view
def in_transit_page(request: HttpRequest) -> HttpResponse:
    """The in-transit ageing report: buckets and transfers, oldest first."""
    site = (
        get_site(code=request.GET["site"], actor=request.user) if request.GET.get("site") else None
    )
    report = ageing_out(tracking.in_transit_ageing(actor=request.user, site=site))
    return render(request, "transfers/ageing.html", {"report": report, "site": site})


urlpatterns: list[URLPattern] = [
    path("<str:number>/ship/", ship_page, name="ship"),
    path("<str:number>/receive/", receive_page, name="receive"),
    path("<str:number>/receive/scan/", receive_scan, name="receive_scan"),
    path("discrepancies/", discrepancies_page, name="discrepancies"),
    path("discrepancies/<int:pk>/resolve/", resolve_view, name="discrepancy_resolve"),
    path("in-transit/", in_transit_page, name="in_transit"),
]
