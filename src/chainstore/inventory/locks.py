"""Row locks, always taken in one global order: SiteSku rows sorted by (site, sku) first,
then balance rows (by the conditional updates) in the order of sorted document lines.
Every service that changes stock goes through chainstore.inventory.posting, which follows it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from chainstore.inventory.models import SiteSku


def lock_site_skus(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SiteSku]:
    """Create missing (site, sku) rows, then lock all of them in (site, sku) order."""
    keys = sorted(set(pairs))
    if not keys:
        return {}
    sites = {s for s, _ in keys}
    skus = {k for _, k in keys}
    existing = set(
        SiteSku.objects.filter(site_id__in=sites, sku_id__in=skus).values_list("site_id", "sku_id")
    )
    for site_id, sku_id in keys:
        if (site_id, sku_id) not in existing:
            try:
                with transaction.atomic():
                    SiteSku.objects.create(site_id=site_id, sku_id=sku_id)
            except IntegrityError:
                pass  # created by a concurrent transaction
    rows = (
        SiteSku.objects.select_for_update()
        .filter(site_id__in=sites, sku_id__in=skus)
        .order_by("site_id", "sku_id")
    )
    wanted = set(keys)
    return {(r.site_id, r.sku_id): r for r in rows if (r.site_id, r.sku_id) in wanted}
