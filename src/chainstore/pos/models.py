"""Store POS: tills, prices, promotions, members and points, sales and returns, shifts.

Money is integer fen, quantities integer thousandths of the SKU's base unit (weighed
goods: grams of a kg SKU), as everywhere in chainstore. Ledgers here (points, gift
cards) are append-only, like the stock ledger, with a balance kept in step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Brand, Category, Sku
from chainstore.inventory.models import Lot, StockOperation
from chainstore.sites.models import Site

USER = settings.AUTH_USER_MODEL


# -- store settings and tills ----------------------------------------------------------
class ShortSalePolicy(models.TextChoices):
    ALLOW = "allow", _("Sell and flag for recount")
    BLOCK = "block", _("Refuse the sale")


class StoreSettings(models.Model):
    """POS settings of one store (a row is created on first use with the defaults)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="pos_settings")
    short_sale_policy = models.CharField(
        max_length=8, choices=ShortSalePolicy.choices, default=ShortSalePolicy.ALLOW
    )
    receipt_header = models.CharField(max_length=200, blank=True, default="")
    receipt_footer = models.CharField(max_length=200, blank=True, default="")
    # Money per point when points are used as a tender: 100 points = 1 yuan by default.
    points_per_yuan_redeemed = models.PositiveIntegerField(default=100)


class Till(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="tills")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="till_code_per_site")]

    def __str__(self) -> str:
        return f"{self.site.code}-{self.code}"


# -- prices ----------------------------------------------------------------------------
class PriceList(models.Model):
    """Selling prices. A list with stores applies only there (store override); a list
    without stores applies chain-wide. Among applicable, active lists in their time
    window, the store-specific one wins, then higher priority, then the newer list.
    Without any list the SKU's retail price is used."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    stores = models.ManyToManyField(Site, blank=True, related_name="+")
    priority = models.IntegerField(default=0)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    price_fen = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "sku"], name="price_list_item_unique"),
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="price_not_negative"),
        ]
        indexes = [models.Index(fields=["sku"], name="price_item_sku_idx")]


# -- members and points ----------------------------------------------------------------
class MemberTier(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(default=0)
    points_per_yuan = models.PositiveIntegerField(default=1, help_text="Points earned per yuan")

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    card_number = models.CharField(max_length=32, unique=True)
    phone = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100, blank=True, default="")
    tier = models.ForeignKey(MemberTier, on_delete=models.PROTECT, related_name="members")
    points_balance = models.BigIntegerField(default=0)
    home_store = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["card_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_balance__gte=0), name="member_points_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.card_number} {self.name}"


class PointsKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    REVERSE = "reverse", _("Reversed by a return")
    REFUND = "refund", _("Refunded by a return")
    ADJUST = "adjust", _("Adjustment")


class PointsEntry(models.Model):
    """Append-only points ledger; `balance_after` is the member's balance after this entry."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points")
    kind = models.CharField(max_length=8, choices=PointsKind.choices)
    delta = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    sale = models.ForeignKey(
        "Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="points_entries"
    )
    note = models.CharField(max_length=200, blank=True, default="")
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["member", "id"], name="points_member_idx")]

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Points entries are immutable")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class GiftCard(models.Model):
    number = models.CharField(max_length=32, unique=True)
    balance_fen = models.BigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance_fen__gte=0), name="gift_card_not_negative")
        ]


class GiftCardEntry(models.Model):
    """Append-only gift card ledger."""

    card = models.ForeignKey(GiftCard, on_delete=models.PROTECT, related_name="entries")
    delta_fen = models.BigIntegerField()
    balance_after_fen = models.BigIntegerField()
    sale = models.ForeignKey(
        "Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Top-ups carry the client's key: a retried top-up loads the card once.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")


# -- promotions ------------------------------------------------------------------------
class PromotionKind(models.TextChoices):
    PERCENT_OFF = "percent_off", _("Percentage off")
    AMOUNT_OFF = "amount_off", _("Fixed amount off per unit")
    SPECIAL_PRICE = "special_price", _("Special / member price")
    THRESHOLD = "threshold", _("Spend X save Y (满减)")
    BUY_X_GET_Y = "buy_x_get_y", _("Buy X get Y free (赠品)")
    NTH_ITEM = "nth_item", _("N-th item at a discount")
    BUNDLE = "bundle", _("Bundle price")
    POINTS_MULTIPLIER = "points_multiplier", _("Points multiplier")


class MemberCondition(models.TextChoices):
    ANY = "any", _("Every shopper")
    MEMBERS = "members", _("Members only")
    TIERS = "tiers", _("Selected member tiers")


class Stacking(models.TextChoices):
    EXCLUSIVE = "exclusive", _("Exclusive: its items get no other promotion")
    COMBINABLE = "combinable", _("Combinable with other combinable promotions")


class ReturnPolicy(models.TextChoices):
    RECOVER = "recover", _("Recover the discount when a return breaks the condition")
    KEEP = "keep", _("Let the shopper keep the discount")


class Promotion(models.Model):
    """One promotion rule. Kind-specific numbers live in `params` (see pos/engine/types.py
    for their meaning); targets select the SKUs it applies to (none = every SKU)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True, default="")
    kind = models.CharField(max_length=20, choices=PromotionKind.choices)
    params = models.JSONField(default=dict, blank=True)
    target_skus = models.ManyToManyField(Sku, blank=True, related_name="+")
    target_categories = models.ManyToManyField(Category, blank=True, related_name="+")
    target_brands = models.ManyToManyField(Brand, blank=True, related_name="+")
    gift_sku = models.ForeignKey(
        Sku, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stores = models.ManyToManyField(Site, blank=True, related_name="+")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    member_condition = models.CharField(
        max_length=8, choices=MemberCondition.choices, default=MemberCondition.ANY
    )
    member_tiers = models.ManyToManyField(MemberTier, blank=True, related_name="+")
    priority = models.IntegerField(default=0)
    stacking = models.CharField(
        max_length=10, choices=Stacking.choices, default=Stacking.COMBINABLE
    )
    return_policy = models.CharField(
        max_length=8, choices=ReturnPolicy.choices, default=ReturnPolicy.RECOVER
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# -- shifts ----------------------------------------------------------------------------
class ShiftStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Shift(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    till = models.ForeignKey(Till, on_delete=models.PROTECT, related_name="shifts")
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=6, choices=ShiftStatus.choices, default=ShiftStatus.OPEN)
    business_date = models.DateField()
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    opening_float_fen = models.BigIntegerField(default=0)
    counted_cash_fen = models.BigIntegerField(null=True, blank=True)
    expected_cash_fen = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["till"], condition=Q(status="open"), name="one_open_shift_per_till"
            )
        ]


class DayClose(models.Model):
    """A Z report: the frozen totals of one till (or the whole store) for a store day."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    till = models.ForeignKey(
        Till, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    business_date = models.DateField()
    number = models.PositiveIntegerField()
    totals = models.JSONField(default=dict)
    closed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "till", "business_date"],
                name="one_z_per_till_day",
                condition=Q(till__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["site", "business_date"],
                name="one_z_per_store_day",
                condition=Q(till__isnull=True),
            ),
        ]


# -- sales and returns -----------------------------------------------------------------
class SaleKind(models.TextChoices):
    SALE = "sale", _("Sale")
    RETURN = "return", _("Return")


class PricedBy(models.TextChoices):
    SERVER = "server", _("Priced by chainstore")
    CLIENT = "client", _("Priced by the till (offline / third-party)")


class Sale(models.Model):
    """A paid receipt: a sale or a return (refund). Immutable once written."""

    kind = models.CharField(max_length=6, choices=SaleKind.choices, default=SaleKind.SALE)
    number = models.CharField(max_length=40, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    till = models.ForeignKey(
        Till, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    cashier = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    reason = models.CharField(max_length=200, blank=True, default="")  # returns
    business_date = models.DateField(db_index=True)
    sold_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    subtotal_fen = models.BigIntegerField(default=0)  # gross of the paid lines
    discount_fen = models.BigIntegerField(default=0)  # promotions (money off, not gifts)
    total_fen = models.BigIntegerField(default=0)  # subtotal - discount (refund for returns)
    tax_fen = models.BigIntegerField(default=0)  # VAT included in total
    recovered_fen = models.BigIntegerField(default=0)  # returns: discount clawed back
    points_earned = models.BigIntegerField(default=0)  # returns: points reversed
    points_redeemed = models.BigIntegerField(default=0)
    priced_by = models.CharField(max_length=6, choices=PricedBy.choices, default=PricedBy.SERVER)
    offline = models.BooleanField(default=False)
    went_short = models.BooleanField(default=False)
    promotions = models.JSONField(default=list, blank=True)  # applied rules, as explained
    operation = models.ForeignKey(
        StockOperation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["site", "business_date"], name="sale_site_day_idx"),
            models.Index(fields=["till", "business_date"], name="sale_till_day_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class LineCondition(models.TextChoices):
    SELLABLE = "sellable", _("Back to the shelf")
    DAMAGED = "damaged", _("Damaged")


class SaleLine(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    unit_price_fen = models.BigIntegerField()
    gross_fen = models.BigIntegerField()
    discount_fen = models.BigIntegerField(default=0)
    net_fen = models.BigIntegerField()
    tax_rate_bp = models.PositiveIntegerField(default=1300)
    tax_fen = models.BigIntegerField(default=0)
    is_gift = models.BooleanField(default=False)
    gift_promotion = models.ForeignKey(
        Promotion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    points_earned = models.BigIntegerField(default=0)
    returned_quantity = models.BigIntegerField(default=0)  # sale lines: returned so far
    original_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="return_lines"
    )
    condition = models.CharField(
        max_length=8, choices=LineCondition.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["sale", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["sale", "line_no"], name="sale_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sale_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0) & Q(returned_quantity__lte=F("quantity")),
                name="sale_line_returned_within_quantity",
            ),
        ]
        indexes = [models.Index(fields=["sku"], name="sale_line_sku_idx")]


class LineDiscount(models.Model):
    """One promotion's share of a line's discount (basket discounts allocated to lines)."""

    line = models.ForeignKey(SaleLine, on_delete=models.CASCADE, related_name="discounts")
    promotion = models.ForeignKey(
        Promotion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=100, blank=True, default="")
    amount_fen = models.BigIntegerField()


class TenderKind(models.TextChoices):
    CASH = "cash", _("Cash")
    BANK_CARD = "bank_card", _("Bank card")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    POINTS = "points", _("Points")
    GIFT_CARD = "gift_card", _("Gift card")


class Tender(models.Model):
    """Money received for a sale (or paid back for a return): amount applied, and for cash
    what was handed over and the change given."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="tenders")
    kind = models.CharField(max_length=10, choices=TenderKind.choices)
    amount_fen = models.BigIntegerField()
    tendered_fen = models.BigIntegerField(default=0)
    change_fen = models.BigIntegerField(default=0)
    points = models.BigIntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="tender_amount_positive")
        ]


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", _("Open: recount requested")
    COUNTING = "counting", _("Being recounted")
    RESOLVED = "resolved", _("Resolved")


class StockDiscrepancy(models.Model):
    """A sale the ledger said was short: on hand went negative and a recount is due."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="discrepancies")
    short_quantity = models.BigIntegerField()
    status = models.CharField(
        max_length=8, choices=DiscrepancyStatus.choices, default=DiscrepancyStatus.OPEN
    )
    count_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["site", "status"], name="discrepancy_site_status_idx")]


class SuspendedBasket(models.Model):
    """A basket put on hold at a till (挂单), to be resumed at any till of the store."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    till = models.ForeignKey(
        Till, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=100, blank=True, default="")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
