"""Price list pages: list, create/edit, prices (add or change by SKU code or scan, remove),
and a CSV/XLSX upload of sku_code,price checked first (dry run) and imported on confirm.
Permission pos.promotions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import fen_to_money
from chainstore.pos import selectors_admin as selectors
from chainstore.pos.forms import PriceImportForm, PriceItemForm, PriceListForm
from chainstore.pos.models import PriceList
from chainstore.pos.services import admin_prices
from chainstore.pos.views.admin_common import explain, form_page, refuse
from chainstore.web.http import page_view, paginate

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@page_view
def price_list_list(request: HttpRequest) -> HttpResponse:
    lists = selectors.list_price_lists(actor=request.user)
    return render(request, "pos/admin/price_list_list.html", {"price_lists": lists})


@page_view
def price_list_create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "pos.promotions")
    form = PriceListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            price_list = admin_prices.create_price_list(
                code=form.cleaned_data["code"], data=form.price_list_input(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Price list %(code)s created.") % {"code": price_list.code})
            return redirect("pos:price_list_detail", code=price_list.code)
    return form_page(request, "pos/admin/price_list_form.html", {"form": form, "price_list": None})


@page_view
def price_list_edit(request: HttpRequest, code: str) -> HttpResponse:
    price_list = selectors.get_price_list(actor=request.user, code=code)
    form = PriceListForm(
        request.POST or None, editing=True, initial=PriceListForm.initial_for(price_list)
    )
    if request.method == "POST" and form.is_valid():
        try:
            admin_prices.update_price_list(
                price_list=price_list, data=form.price_list_input(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Price list %(code)s saved.") % {"code": price_list.code})
            return redirect("pos:price_list_detail", code=price_list.code)
    context = {"form": form, "price_list": price_list}
    return form_page(request, "pos/admin/price_list_form.html", context)


def _detail(
    request: HttpRequest, price_list: PriceList, status: int = 200, **extra: Any
) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    context = {
        "price_list": price_list,
        "stores": list(price_list.stores.order_by("code")),
        "page": paginate(request, selectors.list_price_items(price_list=price_list, search=search)),
        "search": search,
        "form": PriceItemForm(),
        "import_form": PriceImportForm(),
        **extra,
    }
    return render(request, "pos/admin/price_list_detail.html", context, status=status)


@page_view
def price_list_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _detail(request, selectors.get_price_list(actor=request.user, code=code))


@require_POST
@page_view
def price_set(request: HttpRequest, code: str) -> HttpResponse:
    """Add a SKU (code or scan) at a price, or change its price."""
    price_list = selectors.get_price_list(actor=request.user, code=code)
    form = PriceItemForm(request.POST)
    if form.is_valid():
        try:
            sku = admin_prices.find_sku(form.cleaned_data["sku"])
            admin_prices.set_price(
                price_list=price_list, sku=sku, price_fen=form.price_fen(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc if exc.details.get("field") else _on_sku(exc))
        else:
            messages.success(
                request,
                _("%(sku)s costs %(price)s on this list.")
                % {"sku": sku.code, "price": f"¥{form.cleaned_data['price']:.2f}"},
            )
            return redirect("pos:price_list_detail", code=price_list.code)
    return _detail(request, price_list, status=422, form=form)


def _on_sku(error: DomainError) -> DomainError:
    error.details["field"] = "sku"
    return error


@require_POST
@page_view
def price_remove(request: HttpRequest, code: str, sku_code: str) -> HttpResponse:
    price_list = selectors.get_price_list(actor=request.user, code=code)
    try:
        sku = admin_prices.find_sku(sku_code)
        admin_prices.remove_price(price_list=price_list, sku=sku, actor=request.user)
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, explain(exc))
    else:
        messages.success(request, _("%(sku)s removed from the list.") % {"sku": sku.code})
    return redirect("pos:price_list_detail", code=price_list.code)


@require_POST
@page_view
def price_import(request: HttpRequest, code: str) -> HttpResponse:
    """First a file: check it (dry run) and show every row. Then "Import now": the checked
    rows come back as text and are checked again and applied, all or nothing."""
    price_list = selectors.get_price_list(actor=request.user, code=code)
    form = PriceImportForm(request.POST, request.FILES)
    confirmed = request.POST.get("rows")
    try:
        if confirmed is not None:
            data, filename = confirmed.encode(), "rows.csv"
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD_BYTES:
                form.add_error("file", _("The file is larger than 10 MB."))
                return _detail(request, price_list, status=422, import_form=form)
            data, filename = upload.read(), upload.name
        else:
            return _detail(request, price_list, status=422, import_form=form)
        rows = admin_prices.read_price_rows(data, filename)
        report = admin_prices.import_prices(
            price_list=price_list, rows=rows, dry_run=confirmed is None, actor=request.user
        )
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _detail(request, price_list, status=422, import_error=explain(exc))
    if report.applied:
        messages.success(
            request,
            _("Prices imported: %(added)s added, %(changed)s changed.")
            % {"added": report.count("add"), "changed": report.count("change")},
        )
        return redirect("pos:price_list_detail", code=price_list.code)
    checked = "sku_code,price\n" + "\n".join(
        f"{r.sku_code},{fen_to_money(r.price_fen)}" for r in report.rows if r.price_fen is not None
    )
    status = 422 if report.errors else 200
    return _detail(request, price_list, status=status, report=report, checked_rows=checked)
