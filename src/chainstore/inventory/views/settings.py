"""Safety stock and lot expiry screens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can
from chainstore.inventory import selectors, services
from chainstore.inventory.errors import LotNotFound
from chainstore.inventory.forms import (
    LotExpiryForm,
    SafetyStockForm,
    error_list,
)
from chainstore.inventory.models import Lot, SiteSku
from chainstore.inventory.views._common import (
    Scanned,
    _chosen_sku,
    _describe,
    _open_screen,
    _qty_text,
    _scan,
    _sites_and_site,
)
from chainstore.sites.models import Site
from chainstore.web.http import page_view


# -- safety stock ----------------------------------------------------------------------
@page_view
def safety_stock(request: HttpRequest) -> HttpResponse:
    data, site, context = _open_screen(request, "inventory.safety_stock")
    if site is None:
        return render(request, "inventory/safety_stock.html", context)
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    context["errors"] += scanned.errors
    sku = scanned.sku or _chosen_sku(data)
    next_url = data.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    status = 200
    form = SafetyStockForm(request.POST) if request.method == "POST" else None
    if form is not None and sku is not None:
        if not form.is_valid():
            context["errors"] += error_list(form)
            status = 422
        else:
            quantity = form.cleaned_data["quantity"]
            try:
                services.set_safety_stock(site=site, sku=sku, quantity=quantity, actor=request.user)
            except PermissionDenied:
                raise
            except DomainError as exc:
                context["errors"].append(_describe(exc))
                status = 422
            else:
                messages.success(request, _safety_message(site, sku, quantity))
                if next_url:
                    return redirect(next_url)
                return redirect(f"{reverse('inventory:safety_stock')}?site={site.code}")
    current = None
    if sku is not None:
        current = (
            SiteSku.objects.filter(site=site, sku=sku)
            .values_list("safety_stock", flat=True)
            .first()
        )
    if sku is not None and (form is None or status == 200):
        value = "" if current is None else _qty_text(current)
        form = SafetyStockForm(initial={"quantity": value})
    context.update({"sku": sku, "form": form, "current": current, "next": next_url})
    return render(request, "inventory/safety_stock.html", context, status=status)


def _safety_message(site: Site, sku: Sku, quantity: int | None) -> str:
    if quantity is None:
        return _("Safety stock of %(sku)s at %(site)s cleared.") % {
            "sku": sku.code,
            "site": site.code,
        }
    return _("Safety stock of %(sku)s at %(site)s set to %(quantity)s %(unit)s.") % {
        "sku": sku.code,
        "site": site.code,
        "quantity": _qty_text(quantity),
        "unit": sku.base_unit,
    }


# -- lots and expiry -------------------------------------------------------------------
@page_view
def lots(request: HttpRequest) -> HttpResponse:
    """Lot rows of a scanned SKU at a site, each with a link to correct its expiry."""
    ensure_can(request.user, "inventory.lots")
    sites, site = _sites_and_site(request, request.GET)
    context: dict[str, Any] = {"sites": sites, "site": site, "errors": []}
    sku = None
    if site is not None:
        scanned = _scan(site, request.GET.get("scan", ""))
        context["errors"] += scanned.errors
        sku = scanned.sku or _chosen_sku(request.GET)
    rows: dict[int, dict[str, Any]] = {}
    if sku is not None and site is not None:
        if not sku.is_lot_tracked:
            context["errors"].append(_("%(sku)s is not lot-tracked.") % {"sku": sku.code})
        for b in selectors.site_stock(site=site, actor=request.user, sku=sku):
            if b.lot_id is None:
                continue
            row = rows.setdefault(b.lot_id, {"lot": b.lot, "on_hand": 0, "locations": []})
            row["on_hand"] += b.on_hand
            row["locations"].append(b.location.code)
    context.update({"sku": sku, "rows": list(rows.values())})
    return render(request, "inventory/lots.html", context)


@page_view
def lot_expiry(request: HttpRequest, lot_id: int) -> HttpResponse:
    ensure_can(request.user, "inventory.lots")
    lot = Lot.objects.select_related("sku").filter(pk=lot_id).first()
    if lot is None:
        raise LotNotFound()
    site_code = request.GET.get("site", "") or request.POST.get("site", "")
    back = f"{reverse('inventory:lots')}?site={site_code}&sku={lot.sku_id}"
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = LotExpiryForm(request.POST)
        if form.is_valid():
            before = lot.expiry_date
            try:
                services.correct_lot_expiry(
                    lot=lot, expiry_date=form.cleaned_data["expiry_date"], actor=request.user
                )
            except PermissionDenied:
                raise
            except DomainError as exc:  # pragma: no cover - the service has no other refusal
                errors.append(_describe(exc))
                status = 422
            else:
                messages.success(
                    request,
                    _("Expiry of lot %(lot)s corrected: %(before)s → %(after)s.")
                    % {"lot": lot.number, "before": before or "—", "after": lot.expiry_date},
                )
                return redirect(back)
        else:
            errors += error_list(form)
            status = 422
    else:
        form = LotExpiryForm(initial={"expiry_date": lot.expiry_date})
    context = {"lot": lot, "form": form, "errors": errors, "back": back, "site_code": site_code}
    return render(request, "inventory/lot_expiry.html", context, status=status)
