"""The till screens under /pos/: checkout, returns, shift (X report, close), receipts.

The pages are shells: the basket, tenders, returns and shifts run in the browser
(Alpine.js) against the JSON API /api/v1/pos/... with the session and the CSRF header,
so the till and third-party POS software share one set of rules. The views only pick the
store and till (remembered per device in a cookie), check role and site scope, and
render the receipt print view from the stored sale.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chainstore.core.permissions import ensure_can, has_perm
from chainstore.pos.models import Shift, StoreSettings, Till
from chainstore.pos.selectors_reports import find_open_shift
from chainstore.pos.views import till_receipt
from chainstore.pos.views.till_texts import (
    checkout_texts,
    offline_texts,
    return_reasons,
    returns_texts,
    shift_texts,
)
from chainstore.sites.models import Site, SiteKind
from chainstore.sites.selectors import list_sites
from chainstore.web.http import page_view

TILL_COOKIE = "cs_till"
TILL_COOKIE_AGE = 400 * 24 * 3600  # a till is a device: remember it for good
API = "/api/v1/pos"
TILL_PERMISSIONS = ("pos.sell", "pos.return", "pos.shift")


# -- the till this device is ------------------------------------------------------------
def _stores(actor: Any, permission: str) -> list[Site]:
    """The actor's stores where the role holds `permission` (scope from their profile)."""
    ensure_can(actor, permission)
    return list(list_sites(actor=actor, kind=SiteKind.STORE).filter(is_active=True))


def _tills(store: Site) -> list[Till]:
    return list(Till.objects.filter(site=store, is_active=True).order_by("code"))


def _remembered(request: HttpRequest, stores: list[Site]) -> Till | None:
    """The till this device was set to, if it is still active and in the actor's scope."""
    raw = request.COOKIES.get(TILL_COOKIE, "")
    try:
        till_id = int(raw)
    except ValueError:
        return None
    allowed = {s.pk for s in stores}
    till = Till.objects.select_related("site").filter(pk=till_id, is_active=True).first()
    return till if till is not None and till.site_id in allowed else None


def _points_per_yuan(store: Site) -> int:
    settings = StoreSettings.objects.filter(site=store).first()
    return settings.points_per_yuan_redeemed if settings else 100


def _shift_json(shift: Shift | None) -> dict[str, Any] | None:
    if shift is None:
        return None
    return {
        "id": shift.pk,
        "cashier": shift.cashier.get_username(),
        "opened_at": shift.opened_at.isoformat(),
        "business_date": shift.business_date.isoformat(),
    }


def _base_config(request: HttpRequest, till: Till) -> dict[str, Any]:
    return {
        "api": API,
        "csrf": get_token(request),
        "store": till.site.code,
        "till": till.code,
        "user": request.user.get_username(),
        "receiptUrl": reverse("pos:receipt", args=[0]),
        "checkoutUrl": reverse("pos:checkout"),
        "returnsUrl": reverse("pos:returns"),
        "shiftUrl": reverse("pos:shift"),
        "loginUrl": f"{reverse('login')}?next={request.path}",
    }


def _device_till(request: HttpRequest, permission: str, next_name: str) -> Till | HttpResponse:
    """The till of this device (in the actor's scope), or the page that asks for one."""
    till = _remembered(request, _stores(request.user, permission))
    if till is None:
        return redirect(f"{reverse('pos:choose_till')}?next={reverse(next_name)}")
    ensure_can(request.user, permission, sites=[till.site_id])
    return till


# -- pages ------------------------------------------------------------------------------
@page_view
def checkout(request: HttpRequest) -> HttpResponse:
    till = _device_till(request, "pos.sell", "pos:checkout")
    if isinstance(till, HttpResponse):
        return till
    store = till.site
    shift = find_open_shift(till=till)
    config = _base_config(request, till) | {
        "shift": _shift_json(shift),
        "pointsPerYuan": _points_per_yuan(store),
        "canReturn": has_perm(request.user, "pos.return"),
        "canShift": has_perm(request.user, "pos.shift"),
        "text": checkout_texts() | offline_texts(),
        "storeName": store.name,
        "swUrl": reverse("pos:service_worker"),
        "staticUrl": settings.STATIC_URL,
    }
    return render(
        request,
        "pos/till/checkout.html",
        {"till": till, "store": store, "shift": shift, "config": config},
    )


@page_view
def returns(request: HttpRequest) -> HttpResponse:
    till = _device_till(request, "pos.return", "pos:returns")
    if isinstance(till, HttpResponse):
        return till
    shift = find_open_shift(till=till)
    unreceipted = has_perm(request.user, "pos.return_unreceipted")
    config = _base_config(request, till) | {
        "shift": _shift_json(shift),
        "unreceipted": unreceipted,
        "original": request.GET.get("number", "").strip()[:40],
        "reasons": return_reasons(),
        "text": returns_texts(),
    }
    return render(
        request,
        "pos/till/returns.html",
        {"till": till, "store": till.site, "shift": shift, "config": config},
    )


@page_view
def shift(request: HttpRequest) -> HttpResponse:
    till = _device_till(request, "pos.shift", "pos:shift")
    if isinstance(till, HttpResponse):
        return till
    current = find_open_shift(till=till)
    config = _base_config(request, till) | {
        "shift": _shift_json(current),
        "text": shift_texts(),
    }
    return render(
        request,
        "pos/till/shift.html",
        {"till": till, "store": till.site, "shift": current, "config": config},
    )


@require_http_methods(["GET", "POST"])
@page_view
def choose_till(request: HttpRequest) -> HttpResponse:
    """Pick the store and till this device is (remembered in a cookie)."""
    held = [p for p in TILL_PERMISSIONS if has_perm(request.user, p)]
    stores = _stores(request.user, held[0] if held else TILL_PERMISSIONS[0])
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("pos:checkout")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("pos:checkout")
    error = ""
    if request.method == "POST":
        till = _posted_till(request, stores)
        if till is not None:
            response = HttpResponseRedirect(next_url)
            response.set_cookie(
                TILL_COOKIE, str(till.pk), max_age=TILL_COOKIE_AGE, samesite="Lax", httponly=True
            )
            return response
        error = _("Choose one of your stores and one of its tills.")
    by_code = {s.code: s for s in stores}
    chosen = by_code.get(request.POST.get("store") or request.GET.get("store", ""))
    if chosen is None and len(stores) == 1:
        chosen = stores[0]
    current = _remembered(request, stores)
    if chosen is None and current is not None:
        chosen = current.site
    return render(
        request,
        "pos/till/choose.html",
        {
            "stores": stores,
            "store": chosen,
            "tills": _tills(chosen) if chosen else [],
            "current": current,
            "next": next_url,
            "error": error,
        },
    )


def _posted_till(request: HttpRequest, stores: list[Site]) -> Till | None:
    store = next((s for s in stores if s.code == request.POST.get("store")), None)
    if store is None:
        return None
    return next((t for t in _tills(store) if t.code == request.POST.get("till")), None)


@page_view
def receipt(request: HttpRequest, sale_id: int) -> HttpResponse:
    """The 80 mm receipt print view of a sale or a return (`?print=1` prints on load)."""
    sale = till_receipt.get_receipt_sale(actor=request.user, sale_id=sale_id)
    context = till_receipt.receipt_context(sale)
    context["auto_print"] = request.GET.get("print") == "1"
    context["back"] = reverse("pos:returns") if sale.kind == "return" else reverse("pos:checkout")
    return render(request, "pos/till/receipt.html", context)


@require_http_methods(["GET"])
def service_worker(request: HttpRequest) -> HttpResponse:
    """The till's service worker: keeps the checkout page for a reload without network
    (static code, no login needed; served under /pos/ so its scope covers the checkout)."""
    body = render_to_string(
        "pos/till/sw.js", {"scope": reverse("pos:checkout"), "static_url": settings.STATIC_URL}
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


urlpatterns: list[URLPattern] = [
    path("", checkout, name="checkout"),
    path("till/", choose_till, name="choose_till"),
    path("returns/", returns, name="returns"),
    path("shift/", shift, name="shift"),
    path("sales/<int:sale_id>/receipt/", receipt, name="receipt"),
    path("sw.js", service_worker, name="service_worker"),
]
