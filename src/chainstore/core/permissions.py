"""Roles, permissions and site scope: `ensure_can` is called by every service.

A user has one role and a set of sites (or all sites). Roles are fixed in code; which
user holds which role at which sites is data (accounts.Profile).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from chainstore.core.errors import PermissionDenied

ADMIN = "admin"
HQ_PLANNER = "hq_planner"
WAREHOUSE_MANAGER = "warehouse_manager"
WAREHOUSE_OPERATOR = "warehouse_operator"
STORE_MANAGER = "store_manager"
CASHIER = "cashier"
AUDITOR = "auditor"
INTEGRATOR = "integrator"

ROLES = [
    ADMIN,
    HQ_PLANNER,
    WAREHOUSE_MANAGER,
    WAREHOUSE_OPERATOR,
    STORE_MANAGER,
    CASHIER,
    AUDITOR,
    INTEGRATOR,
]

_VIEW = {"catalog.view", "sites.view", "inventory.view"}
_OPERATE = {
    "inventory.receive",
    "inventory.move",
    "inventory.issue",
    "count.record",
}
# Store POS: checkout and returns at the till; managers close days, handle unreceipted
# returns, discrepancies and store settings; HQ owns prices and promotions. Cashiers find
# a member by exact phone or card and enrol new ones; browsing, reading and editing member
# records (personal data, tiers) is `pos.member_records`.
_TILL = {"pos.sell", "pos.return", "pos.shift", "pos.members"}
_STORE_POS = _TILL | {
    "pos.return_unreceipted",
    "pos.day_close",
    "pos.report",
    "pos.discrepancy",
    "pos.settings",
    "pos.member_records",
}
# Online orders (fulfilment): intake and order care are chain-level; waves, picking, the
# outbound check and shipping happen at a warehouse or a ship-from-store site.
_ORDERS_VIEW = {"orders.view"}
_FLOOR = {"fulfilment.pick", "fulfilment.check", "fulfilment.ship"}
_FULFIL = _FLOOR | {"fulfilment.plan", "fulfilment.trace"}
# Transfers between sites: stores and warehouses request, approvers act by the rule's level
# (role + scope), the source picks and ships, the destination receives; managers resolve
# discrepancies; HQ configures approval chains and reads transfer cost.
_TRANSFER_FLOOR = {"transfers.view", "transfers.ship", "transfers.receive"}
_TRANSFER_MANAGER = _TRANSFER_FLOOR | {
    "transfers.request",
    "transfers.approve",
    "transfers.resolve",
    "transfers.costs",
}
ROLE_PERMISSIONS: dict[str, set[str]] = {
    ADMIN: {"*"},
    HQ_PLANNER: _VIEW
    | {
        "catalog.manage",
        "pos.promotions",
        "pos.report",
        "pos.members",
        "pos.member_records",
        "inventory.reserve",
        "inventory.safety_stock",
        "orders.view",
        "orders.intake",
        "orders.manage",
        "fulfilment.trace",
        "fulfilment.settings",
        "transfers.view",
        "transfers.request",
        "transfers.approve",
        "transfers.resolve",
        "transfers.rules",
        "transfers.costs",
        "data.import",
        "data.export",
        "audit.view",
    },
    WAREHOUSE_MANAGER: _VIEW
    | _OPERATE
    | {
        "inventory.adjust",
        "inventory.reserve",
        "inventory.lots",
        "inventory.safety_stock",
        "count.manage",
        "count.approve",
        "sites.manage_locations",
        "data.export",
        "orders.manage",
    }
    | _ORDERS_VIEW
    | _FULFIL
    | _TRANSFER_MANAGER,
    WAREHOUSE_OPERATOR: _VIEW | _OPERATE | _ORDERS_VIEW | _FLOOR | _TRANSFER_FLOOR,
    STORE_MANAGER: _VIEW
    | _OPERATE
    | _STORE_POS
    | {
        "inventory.adjust",
        "inventory.reserve",
        "inventory.safety_stock",
        "count.manage",
        "count.approve",
        "data.export",
    }
    | _ORDERS_VIEW
    | _FULFIL
    | _TRANSFER_MANAGER,
    CASHIER: {"catalog.view", "sites.view", "inventory.view"} | _TILL,
    AUDITOR: _VIEW
    | {
        "audit.view",
        "data.export",
        "pos.report",
        "orders.view",
        "fulfilment.trace",
        "transfers.view",
        "transfers.costs",
    },
    # An API client of a sales channel or a carrier: posts orders, payments, cancellations,
    # address changes and tracking events; reads what it needs to map SKUs.
    INTEGRATOR: {
        "catalog.view",
        "sites.view",
        "orders.view",
        "orders.intake",
        "orders.manage",
        "fulfilment.tracking",
        "transfers.view",
    },
}

# Roles whose scope is every site regardless of assignment.
ALL_SITES_ROLES = {ADMIN, HQ_PLANNER, AUDITOR, INTEGRATOR}


def role_of(actor: Any) -> str | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if getattr(actor, "is_superuser", False):
        return ADMIN
    profile = getattr(actor, "profile", None)
    return getattr(profile, "role", None)


def has_perm(actor: Any, permission: str) -> bool:
    role = role_of(actor)
    if role is None:
        return False
    granted = ROLE_PERMISSIONS.get(role, set())
    return "*" in granted or permission in granted


def scope_site_ids(actor: Any) -> set[int] | None:
    """The site ids the actor may act on; None means every site."""
    role = role_of(actor)
    if role is None:
        return set()
    profile = getattr(actor, "profile", None)
    if role in ALL_SITES_ROLES or getattr(profile, "all_sites", False):
        return None
    cached = getattr(actor, "_chainstore_site_ids", None)
    if cached is None:
        cached = set(profile.sites.values_list("id", flat=True)) if profile else set()
        actor._chainstore_site_ids = cached
    return cached


def ensure_can(actor: Any, permission: str, *, sites: Iterable[int | None] = ()) -> None:
    """Refuse unless the actor's role grants `permission` at every one of `sites`."""
    if not has_perm(actor, permission):
        raise PermissionDenied(
            _("Your role may not perform %(permission)s.") % {"permission": permission},
            code="permission_denied",
            permission=permission,
        )
    allowed = scope_site_ids(actor)
    if allowed is None:
        return
    outside = sorted({s for s in sites if s is not None and s not in allowed})
    if outside:
        raise PermissionDenied(
            _("This site is outside your scope."), code="site_out_of_scope", site_ids=outside
        )
