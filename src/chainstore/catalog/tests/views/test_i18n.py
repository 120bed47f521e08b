import pytest
from django.urls import reverse

from chainstore.core.testing import make_sku

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", ["货架标签", "打印"]), ("en", ["Shelf labels", "Print"])],
)
def test_label_page_in_both_languages(client, admin, language, words):
    sku = make_sku(admin)
    client.force_login(admin)

    html = client.get(
        reverse("catalog:sku_label", args=[sku.pk]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert all(word in html for word in words)


def test_barcode_error_in_chinese(client, admin):
    sku = make_sku(admin)
    client.force_login(admin)

    r = client.post(
        reverse("catalog:barcode_add", args=[sku.pk]),
        {"code": "6901234567890", "kind": "ean13"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert r.status_code == 422
    assert r.context["form"].errors["code"] == ["不是有效的 EAN-13：应为 13 位数字且校验位正确。"]
