from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from chainstore.catalog.errors import SkuNotFound
from chainstore.catalog.models import Category, Sku
from chainstore.core.errors import NotFound


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


@dataclass(frozen=True)
class CategoryNode:
    category: Category
    depth: int
    sku_count: int  # SKUs directly in this category


def category_tree() -> list[CategoryNode]:
    """Every category, depth-first under its parent (children by code), with SKU counts."""
    categories = list(Category.objects.order_by("code"))
    counts = dict(
        Sku.objects.filter(category__isnull=False)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    children: dict[int | None, list[Category]] = {}
    ids = {c.pk for c in categories}
    for c in categories:
        parent = c.parent_id if c.parent_id in ids else None
        children.setdefault(parent, []).append(c)
    out: list[CategoryNode] = []
    stack: list[tuple[Category, int]] = [(c, 0) for c in reversed(children.get(None, []))]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if node.pk in seen:
            continue
        seen.add(node.pk)
        out.append(CategoryNode(node, depth, counts.get(node.pk, 0)))
        stack.extend((c, depth + 1) for c in reversed(children.get(node.pk, [])))
    return out


def category_subtree_ids(category: Category) -> list[int]:
    """The category and every category below it."""
    return _category_subtree_ids(category.pk)


def get_category(*, category_id: int) -> Category:
    category = Category.objects.select_related("parent").filter(pk=category_id).first()
    if category is None:
        raise NotFound(category=category_id)
    return category
