"""Row locks, always taken in one global order: SiteSku rows sorted by (site, sku) first,
then balance rows (by the conditional updates) in the order of sorted document lines.
Every service that changes stock goes through chainstore.inventory.posting, which follows it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from chainstore.inventory.models import SiteSku


def lock_site_skus(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SiteSku]:
    """Lock the (site, sku) rows in (site, sku) order, creating missing rows first."""
    keys = sorted(set(pairs))
    if not keys:
        return {}
    locked = _select_for_update(keys)
    missing = [key for key in keys if key not in locked]
    if not missing:
        return locked
    for site_id, sku_id in missing:
        try:
            with transaction.atomic():
                SiteSku.objects.create(site_id=site_id, sku_id=sku_id)
        except IntegrityError:
            pass  # created by a concurrent transaction
    return _select_for_update(keys)


def _select_for_update(keys: list[tuple[int, int]]) -> dict[tuple[int, int], SiteSku]:
    sites = {s for s, _ in keys}
    skus = {k for _, k in keys}
    rows = (
        SiteSku.objects.select_for_update()
        .filter(site_id__in=sites, sku_id__in=skus)
        .order_by("site_id", "sku_id")
    )
    wanted = set(keys)
    return {(r.site_id, r.sku_id): r for r in rows if (r.site_id, r.sku_id) in wanted}
