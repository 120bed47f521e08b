import pytest

from chainstore.catalog.services import create_category, update_category
from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(admin):
    food = create_category(code="FOOD", name="食品", actor=admin)
    dairy = create_category(code="DAIRY", name="乳制品", parent=food, actor=admin)
    milk = create_category(code="MILK", name="鲜奶", parent=dairy, actor=admin)
    return food, dairy, milk


def _snapshot(*categories):
    for c in categories:
        c.refresh_from_db()
    return [(c.name, c.parent_id) for c in categories], AuditEvent.objects.count()


def test_rename_and_move_to_top_level(admin, tree):
    _food, dairy, milk = tree

    update_category(category=milk, name="低温鲜奶", parent=None, actor=admin)

    milk.refresh_from_db()
    assert (milk.name, milk.parent_id) == ("低温鲜奶", None)
    event = AuditEvent.objects.get(action="category.update")
    assert event.data == {"name": ["鲜奶", "低温鲜奶"], "parent": [dairy.pk, None]}


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_cycle_is_refused(admin, tree, target):
    food, dairy, milk = tree
    parent = {"self": food, "child": dairy, "grandchild": milk}[target]
    before = _snapshot(food, dairy, milk)

    with pytest.raises(ValidationFailed) as exc:
        update_category(category=food, name="食品", parent=parent, actor=admin)

    assert exc.value.code == "category_cycle"
    assert _snapshot(food, dairy, milk) == before


def test_blank_name_is_refused(admin, tree):
    food, dairy, milk = tree
    before = _snapshot(food, dairy, milk)

    with pytest.raises(ValidationFailed) as exc:
        update_category(category=dairy, name="  ", parent=None, actor=admin)

    assert exc.value.code == "missing_field"
    assert _snapshot(food, dairy, milk) == before


def test_store_manager_may_not_update(admin, store, tree):
    food, dairy, milk = tree
    manager = make_user("store_manager", sites=[store])
    before = _snapshot(food, dairy, milk)

    with pytest.raises(PermissionDenied):
        update_category(category=milk, name="改", parent=None, actor=manager)

    assert _snapshot(food, dairy, milk) == before
