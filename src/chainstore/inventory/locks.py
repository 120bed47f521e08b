"""Row locks, always taken in one global order: the sites' advisory locks (shared by
postings, exclusive for a count's snapshot), then SiteSku rows sorted by (site, sku),
then balance rows (by the conditional updates) in the order of sorted document lines.
Every service that changes stock goes through chainstore.inventory.posting, which follows it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction

from chainstore.inventory.models import SiteSku

# A namespace for PostgreSQL advisory locks keyed by site id (two-int form: class, object).
_SITE_LOCK_CLASS = 7_301


def lock_sites_shared(site_ids: Iterable[int]) -> None:
    """Every posting holds its sites' lock in shared mode until commit, so a stock count can
    wait for in-flight postings (including ones creating SiteSku rows it cannot see yet).

    PostgreSQL: transaction-scoped shared advisory locks, in site order. SQLite: nothing to
    do, since BEGIN IMMEDIATE already serialises every writer."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for site_id in sorted(set(site_ids)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s)", [_SITE_LOCK_CLASS, site_id]
            )


def lock_site_exclusive(site_id: int) -> None:
    """Wait until no posting at the site is in flight, and keep new ones out until commit."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_SITE_LOCK_CLASS, site_id])


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
