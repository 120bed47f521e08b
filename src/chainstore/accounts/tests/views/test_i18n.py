import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_pages_in_chinese_by_default_and_english_on_request(admin, cashier):
    client = _client(admin)
    zh = client.get(reverse("accounts:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新建用户" in zh and "姓名" in zh and "收银员" in zh
    en = client.get(reverse("accounts:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "New user" in en and "新建用户" not in en
    tokens = client.get(reverse("accounts:tokens"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "我的 API 令牌" in tokens.content.decode()


def test_refusals_are_translated(admin):
    res = _client(admin).post(
        reverse("accounts:deactivate", args=[admin.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert [str(m) for m in res.context["messages"]] == ["不能停用自己。"]
    res = _client(admin).post(
        reverse("accounts:create"),
        {"username": "newbie", "role": "cashier", "password": "short"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "密码至少需要 8 个字符。" in res.content.decode()
