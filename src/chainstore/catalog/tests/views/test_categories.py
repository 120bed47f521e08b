import pytest
from django.urls import reverse

from chainstore.catalog.models import Category
from chainstore.catalog.services import create_category
from chainstore.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_tree_lists_categories_depth_first(client, admin, store_manager):
    food = create_category(code="FOOD", name="食品", actor=admin)
    create_category(code="DAIRY", name="乳制品", parent=food, actor=admin)
    create_category(code="BEV", name="饮料", actor=admin)
    client.force_login(store_manager)  # catalog.view is enough to read

    page = client.get(reverse("catalog:index"))

    assert page.status_code == 200
    assert [(n.category.code, n.depth) for n in page.context["nodes"]] == [
        ("BEV", 0),
        ("FOOD", 0),
        ("DAIRY", 1),
    ]
    assert page.context["can_manage"] is False
    assert b'data-testid="category-create"' not in page.content


def test_planner_creates_a_subcategory(planner_client, admin):
    food = create_category(code="FOOD", name="食品", actor=admin)

    r = planner_client.post(
        reverse("catalog:category_create"),
        {"new-code": "DAIRY", "new-name": "乳制品", "new-parent": str(food.pk)},
    )

    assert r.status_code == 302 and r.url == reverse("catalog:index")
    dairy = Category.objects.get(code="DAIRY")
    assert (dairy.name, dairy.parent_id) == ("乳制品", food.pk)
    assert AuditEvent.objects.filter(action="category.create", object_id=str(dairy.pk)).exists()


def test_duplicate_category_code_is_a_form_error(planner_client, admin):
    create_category(code="FOOD", name="食品", actor=admin)

    r = planner_client.post(
        reverse("catalog:category_create"), {"new-code": "FOOD", "new-name": "又一个"}
    )

    assert r.status_code == 422
    assert r.context["form"].errors["code"]
    assert list(Category.objects.values_list("name", flat=True)) == ["食品"]


def test_rename_and_move_category(planner_client, admin):
    food = create_category(code="FOOD", name="食品", actor=admin)
    dairy = create_category(code="DAIRY", name="奶", actor=admin)
    url = reverse("catalog:category_edit", args=[dairy.pk])
    assert planner_client.get(url).status_code == 200

    r = planner_client.post(url, {"name": "乳制品", "parent": str(food.pk)})

    assert r.status_code == 302
    dairy.refresh_from_db()
    assert (dairy.name, dairy.parent_id) == ("乳制品", food.pk)
    event = AuditEvent.objects.get(action="category.update")
    assert event.data["parent"] == [None, food.pk]


def test_moving_a_category_under_its_child_is_refused(planner_client, admin):
    food = create_category(code="FOOD", name="食品", actor=admin)
    dairy = create_category(code="DAIRY", name="乳制品", parent=food, actor=admin)
    url = reverse("catalog:category_edit", args=[food.pk])
    choices = [
        value for value, _label in planner_client.get(url).context["form"].fields["parent"].choices
    ]
    assert str(dairy.pk) not in choices and str(food.pk) not in choices

    r = planner_client.post(url, {"name": "食品", "parent": str(dairy.pk)})

    assert r.status_code == 422
    food.refresh_from_db()
    assert food.parent_id is None
    assert not AuditEvent.objects.filter(action="category.update").exists()


def test_store_manager_cannot_manage_categories(client, admin, store_manager):
    food = create_category(code="FOOD", name="食品", actor=admin)
    client.force_login(store_manager)

    create = client.post(reverse("catalog:category_create"), {"new-code": "X", "new-name": "X"})
    edit = client.post(reverse("catalog:category_edit", args=[food.pk]), {"name": "改名"})

    assert (create.status_code, edit.status_code) == (403, 403)
    assert list(Category.objects.values_list("code", "name")) == [("FOOD", "食品")]
