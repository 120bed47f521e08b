import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title", "new_site"),
    [("zh-hans", "站点与库位", "新建站点"), ("en", "Sites and bins", "New site")],
)
def test_sites_pages_in_both_languages(client, admin, warehouse, language, title, new_site):
    client.force_login(admin)

    page = client.get(reverse("sites:index"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    grid = client.get(
        reverse("sites:bin_grid", args=[warehouse.code]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert title in page and new_site in page
    assert ("请先创建库区" in grid) == (language == "zh-hans")
