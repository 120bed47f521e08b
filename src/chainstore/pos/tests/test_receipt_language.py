"""A receipt explains its promotions in the reader's language, whatever the language of
the till that rang the sale up (Sale.promotions keeps the engine's template and args)."""

from django.utils import translation

from chainstore.pos.models import Promotion, PromotionKind
from chainstore.pos.services.basket import LineInput
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import cash, client_for, sell


def test_the_same_receipt_reads_in_english_and_in_chinese(store, till, shift, cashier, stocked):
    Promotion.objects.create(
        code="MJ", name="满30减5", kind=PromotionKind.THRESHOLD, params={"tiers": [["30", "5"]]}
    )
    with translation.override("en"):
        sale = sell(
            store, till, cashier, [LineInput(sku_code=stocked.code, quantity=4)], [cash(3_500)]
        )
    client = client_for(cashier)

    english = client.get(f"/api/v1/pos/sales/{sale.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get(f"/api/v1/pos/sales/{sale.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    receipt = client.get(f"/pos/sales/{sale.pk}/receipt/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert english["promotions"][0]["explanation"] == "满30减5: spend ¥40.00 ≥ ¥30.00, save ¥5.00"
    assert chinese["promotions"][0]["explanation"] == "满30减5：消费 ¥40.00 ≥ ¥30.00，省 ¥5.00"
    assert "满30减5：消费 ¥40.00 ≥ ¥30.00，省 ¥5.00" in receipt.content.decode()
