"""Suspended baskets (挂单): park a basket at a till, resume it at any till of the store.

The payload is the till's basket JSON, stored as given (at most 64 KB). Resuming marks
the basket resumed with one conditional UPDATE, so two tills cannot both resume it.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.pos.errors import BasketAlreadyResumed, SuspendedBasketNotFound
from chainstore.pos.models import SuspendedBasket, Till
from chainstore.pos.services.shifts import check_store_till
from chainstore.sites.models import Site

__all__ = ["get_suspended", "list_suspended", "resume_basket", "suspend_basket"]

MAX_PAYLOAD = 64 * 1024


@transaction.atomic
def suspend_basket(
    *, store: Site, till: Till | None, label: str, payload: dict[str, Any], actor: Any
) -> SuspendedBasket:
    """Park a basket (pos.sell at the store)."""
    ensure_can(actor, "pos.sell", sites=[store.pk])
    check_store_till(store, till)
    if not isinstance(payload, dict) or not payload:
        raise ValidationFailed(_("The basket is empty."), code="empty_basket")
    if len(json.dumps(payload, default=str)) > MAX_PAYLOAD:
        raise ValidationFailed(_("The basket is too large."), code="basket_too_large")
    basket = SuspendedBasket.objects.create(
        site=store, till=till, cashier=actor, label=label.strip()[:100], payload=payload
    )
    audit.record(
        actor=actor,
        action="pos.basket.suspend",
        obj=basket,
        to_state="suspended",
        site_id=store.pk,
        data={"till": till.code if till else None, "label": basket.label},
    )
    return basket


def list_suspended(*, store: Site, actor: Any) -> QuerySet[SuspendedBasket]:
    """Baskets waiting at the store, oldest first."""
    ensure_can(actor, "pos.sell", sites=[store.pk])
    return (
        SuspendedBasket.objects.filter(site=store, resumed_at__isnull=True)
        .select_related("till", "cashier")
        .order_by("created_at", "id")
    )


def get_suspended(*, basket_id: int, actor: Any) -> SuspendedBasket:
    basket = (
        SuspendedBasket.objects.select_related("site", "till", "cashier")
        .filter(pk=basket_id)
        .first()
    )
    if basket is None:
        raise SuspendedBasketNotFound(basket=basket_id)
    ensure_can(actor, "pos.sell", sites=[basket.site_id])
    return basket


@transaction.atomic
def resume_basket(*, basket: SuspendedBasket, actor: Any) -> SuspendedBasket:
    """Take a parked basket back to a till; a second resume is refused (409)."""
    ensure_can(actor, "pos.sell", sites=[basket.site_id])
    now = timezone.now()
    if not SuspendedBasket.objects.filter(pk=basket.pk, resumed_at__isnull=True).update(
        resumed_at=now
    ):
        raise BasketAlreadyResumed(basket=basket.pk)
    basket.resumed_at = now
    audit.record(
        actor=actor,
        action="pos.basket.resume",
        obj=basket,
        from_state="suspended",
        to_state="resumed",
        site_id=basket.site_id,
    )
    return basket
