"""Adjustment and manual issue (出库) screens."""

from __future__ import annotations

from functools import partial

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from chainstore.inventory import selectors, services
from chainstore.inventory.forms import (
    AdjustForm,
    IssueForm,
    error_list,
)
from chainstore.inventory.views._common import (
    Refusal,
    Scanned,
    _attempt,
    _bins,
    _chosen_sku,
    _location,
    _moves,
    _open_screen,
    _scan,
)
from chainstore.web.http import page_view


# -- adjustment ------------------------------------------------------------------------
@page_view
def adjust(request: HttpRequest) -> HttpResponse:
    data, site, context = _open_screen(request, "inventory.adjust")
    if site is None:
        return render(request, "inventory/adjust.html", context)
    errors: list[str] = context["errors"]
    location_code = data.get("location", "").strip()
    if not location_code and site.stock_location_id:
        location_code = site.stock_location.code  # type: ignore[union-attr]
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    errors += scanned.errors
    if scanned.location is not None:
        location_code = scanned.location.code
    location = None
    try:
        location = _location(site, location_code)
    except Refusal as exc:
        errors.append(str(exc))
    sku = scanned.sku or _chosen_sku(data)
    status, form = 200, None
    if request.method == "POST" and (location is None or sku is None):
        status = 422
    elif request.method == "POST" and location is not None and sku is not None:
        form = AdjustForm(request.POST)
        if not form.is_valid():
            errors += error_list(form)
            status = 422
        else:
            lot_number, expiry = form.lot_and_expiry()
            posted, status = _attempt(
                errors,
                partial(
                    services.adjust,
                    location=location,
                    sku=sku,
                    delta=form.delta(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    lot_number=lot_number,
                    expiry_date=expiry,
                    note=form.cleaned_data["note"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                ),
            )
            if posted is not None:
                context["operation"] = posted
    if "operation" in context:
        context["moves"] = _moves(context["operation"])
        form, sku = None, None
    if sku is not None and form is None:
        initial = {"lot": scanned.lot_number or ""}
        form = AdjustForm(initial=initial)
    lots = []
    if sku is not None and location is not None:
        lots = list(selectors.site_stock(site=site, actor=request.user, location=location, sku=sku))
    context.update(
        {
            "location": location,
            "location_code": location_code,
            "sku": sku,
            "form": form,
            "lots": [b for b in lots if b.lot_id],
            "untracked_line": next((b for b in lots if not b.lot_id), None),
            "locations": _bins(site, request),
        }
    )
    return render(request, "inventory/adjust.html", context, status=status)


# -- manual issue ----------------------------------------------------------------------
@page_view
def issue(request: HttpRequest) -> HttpResponse:
    data, site, context = _open_screen(request, "inventory.issue")
    if site is None:
        return render(request, "inventory/issue.html", context)
    errors: list[str] = context["errors"]
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    errors += scanned.errors
    if scanned.location is not None:
        errors.append(_("Scan a product, not a location."))
    sku = scanned.sku or _chosen_sku(data)
    status, form = 200, None
    if request.method == "POST" and sku is not None:
        form = IssueForm(request.POST)
        if not form.is_valid():
            errors += error_list(form)
            status = 422
        else:
            posted, status = _attempt(
                errors,
                partial(
                    services.issue,
                    site=site,
                    sku=sku,
                    quantity=form.cleaned_data["quantity"],
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                ),
            )
            if posted is not None:
                context["operation"] = posted
    if "operation" in context:
        context["moves"] = _moves(context["operation"])
        form, sku = None, None
    if sku is not None and form is None:
        form = IssueForm(initial={"quantity": "1"})
    stock = []
    if sku is not None:
        stock = [
            b
            for b in selectors.site_stock(site=site, actor=request.user, sku=sku)
            if b.location.kind in services.ISSUE_KINDS
        ]
    context.update({"sku": sku, "form": form, "stock": stock})
    return render(request, "inventory/issue.html", context, status=status)
