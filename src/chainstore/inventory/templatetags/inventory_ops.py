"""`{% if user|can:"inventory.safety_stock" %}`: show an operation link only to roles that
may use it (the service still checks role and site scope when the form is posted)."""

from __future__ import annotations

from typing import Any

from django import template

from chainstore.core.permissions import has_perm

register = template.Library()


@register.filter
def can(user: Any, permission: str) -> bool:
    return has_perm(user, permission)
