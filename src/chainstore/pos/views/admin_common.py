"""Plumbing shared by the back office pages: refusals as form errors, form page status."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.web.errors import describe


def explain(error: DomainError) -> str:
    """The service's message (already in the request's language), or the shared one."""
    if error.code in ("permission_denied", "site_out_of_scope", "not_found"):
        return describe(error)
    return error.message or describe(error)


def refuse(form: forms.Form, error: DomainError) -> None:
    """Show a service refusal on the field it names (`details.field`, params without their
    "params." prefix), else above the form. A permission refusal stays a 403 page."""
    if isinstance(error, PermissionDenied):
        raise error
    name = str(error.details.get("field", "")).removeprefix("params.")
    form.add_error(name if name in form.fields else None, explain(error))


def form_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    form = context["form"]
    status = 422 if form.is_bound and form.errors else 200
    return render(request, template, context, status=status)
