"""Receiving (入库) on a phone: scan lines into a draft, then post it once.

The draft lives in the page (Alpine.js); each scan is resolved by `scan`, and posting calls
inventory.services.receive with the idempotency key the form was created with, so a double
tap or a resend posts the receipt once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chainstore.catalog.selectors import get_sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import qty_to_milli
from chainstore.inventory.services import ReceiptLine, receive, site_today
from chainstore.sites.selectors import get_site, list_sites
from chainstore.web.errors import MESSAGES, describe
from chainstore.web.forms import ReceiptForm, line_forms
from chainstore.web.http import page_view

LINE_KEYS = ("sku", "code", "name", "unit", "lot_tracked", "lot", "expiry", "gs1", "quantity")


def _sku_json(sku: Any) -> dict[str, Any]:
    return {
        "sku": sku.pk,
        "code": sku.code,
        "name": sku.name,
        "unit": sku.base_unit,
        "lot_tracked": sku.is_lot_tracked,
    }


@page_view
def receiving(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "inventory.receive")
    sites = list(list_sites(actor=request.user))
    if request.method != "POST":
        initial = {"site": request.GET.get("site", "")}
        form = ReceiptForm(sites=sites, initial=initial)
        return _draft(request, form, lines=[], errors=[])
    form = ReceiptForm(request.POST, sites=sites)
    lines = line_forms(request.POST)
    draft, errors = _draft_lines(lines)
    if not form.is_valid():
        errors += [str(e) for field in form.errors.values() for e in field]
    if not draft:
        errors.append(str(MESSAGES["empty_document"]))
    if errors:
        return _draft(request, form, lines=draft, errors=errors, status=422)
    site = get_site(code=form.cleaned_data["site"], actor=request.user)
    try:
        operation = receive(
            site=site,
            actor=request.user,
            supplier=form.cleaned_data["supplier"],
            reference=form.cleaned_data["reference"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            lines=[
                ReceiptLine(
                    sku=line["sku_obj"],
                    quantity=qty_to_milli(line["quantity"]),
                    lot_number=line["lot"] or None,
                    expiry_date=line["expiry_date"],
                )
                for line in draft
            ],
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        return _draft(request, form, lines=draft, errors=[describe(exc)], status=409)
    moves = operation.moves.select_related("sku", "lot", "to_location").order_by("id")
    context = {"operation": operation, "site": site, "moves": moves}
    return render(request, "web/receiving_done.html", context)


def _draft_lines(lines: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Posted lines -> draft rows (kept for re-display) and per-line error messages."""
    draft: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        raw = line.data
        if not line.is_valid():
            for field, field_errors in line.errors.items():
                label = line.fields[field].label or field
                errors += [
                    _("Line %(n)s, %(field)s: %(error)s")
                    % {"n": number, "field": label, "error": e}
                    for e in field_errors
                ]
            if "sku" in line.errors:
                continue
        try:
            sku = get_sku(sku_id=int(raw["sku"]))
        except (DomainError, ValueError):
            errors.append(_("Line %(n)s: SKU not found.") % {"n": number})
            continue
        data = line.cleaned_data if line.is_valid() else {}
        draft.append(
            {
                **_sku_json(sku),
                "sku_obj": sku,
                "quantity": data.get("quantity", raw.get("quantity", "")),
                "lot": (data.get("lot") or "").strip(),
                "expiry_date": data.get("expiry"),
                "expiry": raw.get("expiry", ""),
                "gs1": False,
            }
        )
    return draft, errors


def _draft(
    request: HttpRequest,
    form: ReceiptForm,
    *,
    lines: list[dict[str, Any]],
    errors: list[str],
    status: int = 200,
) -> HttpResponse:
    config = {
        "scanUrl": reverse("receiving_scan"),
        "csrf": get_token(request),
        "lines": [
            {k: str(v) if k == "quantity" else v for k, v in line.items() if k in LINE_KEYS}
            for line in lines
        ],
        "text": {
            "added": _("Added"),
            "enterLot": _("Enter the lot number and expiry date for this SKU."),
            "failed": _("The scan could not be checked."),
            "network": _("No connection to the server; try again."),
            "noCamera": _(
                "The camera is not available (it needs HTTPS and permission to use the camera)."
            ),
        },
    }
    context = {"form": form, "errors": errors, "receiving_config": config}
    return render(request, "web/receiving.html", context, status=status)


@require_POST
@page_view
def scan(request: HttpRequest) -> HttpResponse:
    """Resolve one scan to a draft line: SKU, and lot + expiry when the code carries them."""
    ensure_can(request.user, "inventory.receive")
    try:
        result = resolve_scan(request.POST.get("code", ""))
    except DomainError as exc:
        return JsonResponse({"ok": False, "message": describe(exc)}, status=422)
    sku = result.sku
    lot = result.lot if sku.is_lot_tracked else None
    expiry = result.expiry if sku.is_lot_tracked else None
    site_code = request.POST.get("site", "")
    if expiry is not None and site_code:
        site = get_site(code=site_code, actor=request.user)
        if expiry < site_today(site):
            message = f"{sku.code} / {lot or ''}: {MESSAGES['lot_expired']}"
            return JsonResponse({"ok": False, "message": message}, status=409)
    return JsonResponse(
        {
            "ok": True,
            "line": {
                **_sku_json(sku),
                "lot": lot or "",
                "expiry": expiry.isoformat() if expiry else "",
                "gs1": bool(lot or expiry),
                "quantity": "1",
            },
        }
    )
