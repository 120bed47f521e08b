"""Catalog management pages: category tree, SKU create/edit, barcodes, printable labels.

Thin: forms parse, services decide (catalog.manage is checked there on every path); a
refusal becomes a form error on the field it is about, or a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chainstore.catalog import selectors, services
from chainstore.catalog.forms import BarcodeForm, CategoryEditForm, CategoryForm, SkuForm
from chainstore.catalog.labels import barcode_svg, label_barcode
from chainstore.catalog.models import BarcodeKind, Sku
from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.web.errors import describe
from chainstore.web.http import int_param, page_view

MESSAGES: dict[str, Promise] = {
    "duplicate_category": gettext_lazy("A category with this code exists."),
    "category_cycle": gettext_lazy(
        "A category cannot be moved under itself or one of its subcategories."
    ),
    "duplicate_sku": gettext_lazy("A SKU with this code exists."),
    "duplicate_barcode": gettext_lazy("This barcode already belongs to a SKU."),
    "tracking_locked": gettext_lazy(
        "This SKU already has stock moves; its tracking can no longer change."
    ),
    "missing_field": gettext_lazy("This field is required."),
}
BARCODE_RULES: dict[str, Promise] = {
    BarcodeKind.EAN13: gettext_lazy("Not a valid EAN-13: 13 digits with a correct check digit."),
    BarcodeKind.UPCA: gettext_lazy("Not a valid UPC-A: 12 digits with a correct check digit."),
    BarcodeKind.GTIN14: gettext_lazy("Not a valid GTIN-14: 14 digits with a correct check digit."),
    BarcodeKind.EPC: gettext_lazy("An RFID EPC is 24 or 32 hexadecimal characters."),
    BarcodeKind.INTERNAL: gettext_lazy("An internal code is 1–64 characters without spaces."),
}
# Which form field a refusal is about.
ERROR_FIELDS = {
    "duplicate_category": "code",
    "category_cycle": "parent",
    "duplicate_sku": "code",
    "tracking_locked": "tracking",
    "invalid_tracking": "tracking",
    "negative_amount": "retail_price",
}
LABEL_COPIES = 2


def explain(error: DomainError) -> str:
    if error.code == "invalid_barcode" and error.details.get("kind") in BARCODE_RULES:
        return str(BARCODE_RULES[error.details["kind"]])
    known = MESSAGES.get(error.code)
    return str(known) if known is not None else describe(error)


def _refuse(form: forms.Form, error: DomainError, field: str | None) -> None:
    if isinstance(error, PermissionDenied):
        raise error  # a 403 page, not a form error
    form.add_error(ERROR_FIELDS.get(error.code, field), explain(error))


# -- categories --------------------------------------------------------------------------
@page_view
def index(request: HttpRequest) -> HttpResponse:
    """The category tree; HQ planners and admins create categories here."""
    ensure_can(request.user, "catalog.view")
    return _index(request, CategoryForm(prefix="new"))


def _index(request: HttpRequest, form: CategoryForm, status: int = 200) -> HttpResponse:
    context = {
        "nodes": selectors.category_tree(),
        "form": form,
        "can_manage": has_perm(request.user, "catalog.manage"),
    }
    return render(request, "catalog/index.html", context, status=status)


@require_POST
@page_view
def category_create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "catalog.manage")
    form = CategoryForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            category = services.create_category(
                code=form.cleaned_data["code"].strip(),
                name=form.cleaned_data["name"].strip(),
                parent=form.parent_category(),
                actor=request.user,
            )
        except DomainError as exc:
            _refuse(form, exc, "code")
        else:
            messages.success(request, _("Category %(name)s created.") % {"name": category.name})
            return redirect("catalog:index")
    return _index(request, form, status=422)


@page_view
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_can(request.user, "catalog.manage")
    category = selectors.get_category(category_id=pk)
    exclude = set(selectors.category_subtree_ids(category))
    initial = {"name": category.name, "parent": category.parent_id}
    form = CategoryEditForm(request.POST or None, initial=initial, exclude=exclude)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_category(
                category=category,
                name=form.cleaned_data["name"],
                parent=form.parent_category(),
                actor=request.user,
            )
        except DomainError as exc:
            _refuse(form, exc, None)
        else:
            messages.success(request, _("Category %(name)s saved.") % {"name": category.name})
            return redirect("catalog:index")
    status = 422 if form.is_bound else 200
    context = {"form": form, "category": category}
    return render(request, "catalog/category_form.html", context, status=status)


# -- SKUs --------------------------------------------------------------------------------
@page_view
def sku_create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "catalog.manage")
    form = SkuForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        barcode = data["barcode"].strip()
        try:
            with transaction.atomic():  # the brand is created only with the SKU
                sku = services.create_sku(
                    code=data["code"],
                    actor=request.user,
                    barcodes=[(barcode, data["barcode_kind"])] if barcode else [],
                    brand=_brand(data["brand"]),
                    **form.sku_fields(),
                )
        except DomainError as exc:
            _refuse(form, exc, "barcode" if "barcode" in exc.details else None)
        else:
            messages.success(request, _("SKU %(code)s created.") % {"code": sku.code})
            return redirect("sku_detail", pk=sku.pk)
    return _sku_form(request, form, None)


@page_view
def sku_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_can(request.user, "catalog.manage")
    sku = selectors.get_sku(sku_id=pk)
    form = SkuForm(request.POST or None, sku=sku)
    if request.method == "POST" and form.is_valid():
        fields = form.sku_fields()
        changed = {k: v for k, v in fields.items() if getattr(sku, k) != v}
        try:
            with transaction.atomic():
                brand = _brand(form.cleaned_data["brand"])
                if brand != sku.brand:
                    changed["brand"] = brand
                if changed:
                    services.update_sku(sku=sku, actor=request.user, **changed)
        except DomainError as exc:
            sku.refresh_from_db()
            _refuse(form, exc, None)
        else:
            messages.success(request, _("SKU %(code)s saved.") % {"code": sku.code})
            return redirect("sku_detail", pk=sku.pk)
    return _sku_form(request, form, sku)


def _brand(name: str) -> Any:
    return services.get_or_create_brand(name) if name.strip() else None


def _sku_form(request: HttpRequest, form: SkuForm, sku: Sku | None) -> HttpResponse:
    status = 422 if form.is_bound else 200
    return render(request, "catalog/sku_form.html", {"form": form, "sku": sku}, status=status)


@page_view
def barcode_add(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_can(request.user, "catalog.manage")
    sku = selectors.get_sku(sku_id=pk)
    form = BarcodeForm(request.POST or None, initial={"kind": BarcodeKind.EAN13})
    if request.method == "POST" and form.is_valid():
        try:
            barcode = services.add_barcode(
                sku=sku,
                code=form.cleaned_data["code"],
                kind=form.cleaned_data["kind"],
                primary=form.cleaned_data["primary"],
                actor=request.user,
            )
        except DomainError as exc:
            _refuse(form, exc, "code")
        else:
            messages.success(request, _("Barcode %(code)s added.") % {"code": barcode.code})
            return redirect("sku_detail", pk=sku.pk)
    context = {"form": form, "sku": sku, "barcodes": sku.barcodes.all()}
    status = 422 if form.is_bound else 200
    return render(request, "catalog/barcode_form.html", context, status=status)


@page_view
def sku_label(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable shelf labels for one SKU: name, price and its EAN-13, two per row."""
    ensure_can(request.user, "catalog.view")
    sku = selectors.get_sku(sku_id=pk)
    copies = int_param(request, "copies", LABEL_COPIES, low=1, high=200)
    barcode = label_barcode(sku)
    svg = barcode_svg(barcode.code, barcode.kind) if barcode is not None else None
    context = {
        "sku": sku,
        "barcode": barcode,
        "svg": svg,
        "copies": copies,
        "labels": range(copies),
        "can_manage": has_perm(request.user, "catalog.manage"),
    }
    return render(request, "catalog/label.html", context)
