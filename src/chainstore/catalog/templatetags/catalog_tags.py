"""`{% if user|can:"catalog.manage" %}`: show a button only to roles that may use it.

The services still decide; this only keeps pages free of buttons that would answer 403.
"""

from __future__ import annotations

from typing import Any

from django import template

from chainstore.core.permissions import has_perm

register = template.Library()


@register.filter
def can(user: Any, permission: str) -> bool:
    return has_perm(user, permission)
