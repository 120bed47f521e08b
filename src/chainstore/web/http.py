"""View plumbing: login required, domain refusals as 403/404 pages, paging, htmx detection."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chainstore.core.errors import NotFound, PermissionDenied
from chainstore.web.errors import describe

View = Callable[..., HttpResponse]
PAGE_SIZE = 25


def page_view(view: View) -> View:
    """Require a login; turn PermissionDenied into 403 and NotFound into 404 pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return error_page(request, 403, describe(exc))
        except NotFound as exc:
            return error_page(request, 404, describe(exc))

    return login_required(wrapper)


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "web/error.html", {"status": status, "message": message}, status=status)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def paginate(request: HttpRequest, items: Any, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def int_param(request: HttpRequest, name: str, default: int, *, low: int, high: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(low, min(high, value))
