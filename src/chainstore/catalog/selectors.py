from __future__ import annotations

from django.db.models import Q, QuerySet

from chainstore.catalog.errors import SkuNotFound
from chainstore.catalog.models import Category, Sku


def list_skus(
    *,
    search: str = "",
    category_id: int | None = None,
    tracking: str = "",
    active: bool | None = None,
) -> QuerySet[Sku]:
    qs = Sku.objects.select_related("category", "brand").order_by("code")
    if search:
        qs = qs.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(barcodes__code=search)
        ).distinct()
    if category_id:
        ids = _category_subtree_ids(category_id)
        qs = qs.filter(category_id__in=ids)
    if tracking:
        qs = qs.filter(tracking=tracking)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def _category_subtree_ids(root_id: int) -> list[int]:
    ids = [root_id]
    frontier = [root_id]
    while frontier:
        frontier = list(
            Category.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        ids.extend(frontier)
    return ids


def get_sku(*, code: str | None = None, sku_id: int | None = None) -> Sku:
    qs = Sku.objects.select_related("category", "brand")
    if code is not None:
        sku = qs.filter(code=code).first()
    else:
        sku = qs.filter(pk=sku_id).first() if sku_id is not None else None
    if sku is None:
        raise SkuNotFound(sku=code or sku_id)
    return sku


def list_categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("code")
