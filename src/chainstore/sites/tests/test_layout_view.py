"""The walking-layout form on the site layout page: prefilled from the stored layout or the
one the bins imply, saved through sites.services.set_layout, errors on the form, a live
map preview that saves nothing, and permission + scope."""

from decimal import Decimal

import pytest
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, make_site, make_user
from chainstore.sites.models import WarehouseLayout
from chainstore.sites.services import set_layout

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    """English pages (the default language is Chinese); one test asks for Chinese."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def racks(admin, warehouse):
    """Two aisles (x 3 and 6) of racks at y 1.2 and 2.4."""
    for code, x, y in (("A-01", "3", "1.2"), ("A-02", "3", "2.4"), ("B-01", "6", "1.2")):
        make_bin(admin, warehouse, code=code, x=Decimal(x), y=Decimal(y))
    return warehouse


def _url(site):
    return reverse("sites:layout", args=[site.code])


GOOD = {"cross_aisles": "0, 20，10", "aisles": "", "depot_x": "1.5", "depot_y": "0"}


def test_get_prefills_the_layout_the_bins_give(client, admin, racks):
    client.force_login(admin)

    page = client.get(_url(racks))

    assert page.status_code == 200
    form = page.context["form"]
    assert form["cross_aisles"].value() == "0.2, 3.4"
    assert (form["depot_x"].value(), form["depot_y"].value()) == ("3", "0.2")
    assert form["aisles"].value() in (None, "")
    html = page.content.decode()
    assert 'placeholder="3, 6"' in html  # what an empty aisle list stands for
    assert 'data-testid="warehouse-map"' in html and 'data-testid="map-depot"' in html
    assert 'data-testid="layout-source">Derived from the bins' in html


def test_post_saves_and_the_form_shows_the_stored_layout(client, admin, racks):
    client.force_login(admin)

    r = client.post(_url(racks), GOOD)

    assert r.status_code == 302 and r.url == _url(racks)
    stored = WarehouseLayout.objects.get(site=racks)
    assert [Decimal(y) for y in stored.cross_aisles] == [0, 10, 20]
    assert stored.aisles == [] and stored.depot_x == Decimal("1.5")
    assert AuditEvent.objects.filter(action="site.layout", site_id=racks.pk).count() == 1
    page = client.get(_url(racks))
    assert page.context["form"]["cross_aisles"].value() == "0, 10, 20"
    assert "saved" in page.content.decode()


def test_the_bin_plot_has_the_front_at_the_bottom_like_the_map(client, admin, racks):
    client.force_login(admin)

    cells = {c["title"]: Decimal(c["y"]) for c in client.get(_url(racks)).context["cells"]}

    assert cells["A-02"] < cells["A-01"] == cells["B-01"]  # y 2.4 is drawn above y 1.2


def test_get_prefills_a_stored_layout(client, admin, racks):
    set_layout(
        site=racks,
        actor=admin,
        cross_aisles=[Decimal("0"), Decimal("12.5")],
        aisles=[Decimal("3"), Decimal("6")],
        depot_x=Decimal("0"),
        depot_y=Decimal("0"),
    )
    client.force_login(admin)

    page = client.get(_url(racks))

    form = page.context["form"]
    assert (form["cross_aisles"].value(), form["aisles"].value()) == ("0, 12.5", "3, 6")
    assert 'data-testid="layout-source">Saved' in page.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"cross_aisles": "5"}, "cross_aisles", "at least two cross-aisles"),
        ({"cross_aisles": "0, 5, 5"}, "cross_aisles", "only once"),
        ({"cross_aisles": "0, x"}, "cross_aisles", "not a number of metres"),
        ({"aisles": "3, 3"}, "aisles", "only once"),
        ({"depot_y": "25"}, "depot_y", "between the front (0) and back (20)"),
        ({"depot_x": ""}, "depot_x", "required"),
    ],
)
def test_invalid_values_are_shown_on_the_form_and_nothing_is_saved(
    client, admin, racks, change, field, message
):
    client.force_login(admin)

    r = client.post(_url(racks), {**GOOD, **change})

    assert r.status_code == 422
    assert message in " ".join(r.context["form"].errors[field])
    assert 'data-testid="field-error"' in r.content.decode()
    assert not WarehouseLayout.objects.filter(site=racks).exists()


def test_a_service_refusal_becomes_a_form_error(client, admin, racks, monkeypatch):
    from chainstore.core.errors import ValidationFailed
    from chainstore.sites import services

    def refuse(**kwargs):
        raise ValidationFailed("no", code="invalid_layout")

    monkeypatch.setattr(services, "set_layout", refuse)
    client.force_login(admin)

    r = client.post(_url(racks), GOOD)

    assert r.status_code == 422
    assert "Check the layout" in r.content.decode() and 'data-testid="form-error"' in (
        r.content.decode()
    )


def test_preview_draws_the_proposed_layout_without_saving(client, admin, racks):
    client.force_login(admin)

    r = client.post(_url(racks), {**GOOD, "aisles": "3, 6, 9", "preview": "1"})

    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="preview-unsaved"' in html
    assert html.count("<line ") == 3 + 3  # three aisles, three cross-aisles
    assert not WarehouseLayout.objects.filter(site=racks).exists()
    bad = client.post(_url(racks), {**GOOD, "cross_aisles": "1", "preview": "1"})
    assert 'data-testid="preview-invalid"' in bad.content.decode()


def test_chinese_labels(client, admin, racks):
    client.force_login(admin)

    html = client.get(_url(racks), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "拣货路线的行走布局" in html and "保存布局" in html


def test_viewers_see_the_map_but_no_form_and_may_not_post(client, admin, racks):
    operator = make_user("warehouse_operator", sites=[racks])
    client.force_login(operator)

    page = client.get(_url(racks))
    assert page.status_code == 200 and page.context["form"] is None
    assert 'data-testid="warehouse-map"' in page.content.decode()

    assert client.post(_url(racks), GOOD).status_code == 403
    assert client.post(_url(racks), {**GOOD, "preview": "1"}).status_code == 403
    assert not WarehouseLayout.objects.filter(site=racks).exists()


def test_a_manager_of_another_site_is_refused(client, admin, racks):
    other = make_site(admin, "cdc")
    manager = make_user("warehouse_manager", sites=[other])
    client.force_login(manager)

    assert client.get(_url(racks)).status_code == 403
    assert client.post(_url(racks), GOOD).status_code == 403
    assert not WarehouseLayout.objects.filter(site=racks).exists()
    # ... and may edit the layout of their own site
    own = client.post(_url(other), {**GOOD, "aisles": "3"})
    assert own.status_code == 302
