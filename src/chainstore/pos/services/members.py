"""Members (会员) and points (积分).

Points live in an append-only ledger (`PointsEntry`) with `Member.points_balance` kept in
step in the same transaction: every change is one conditional UPDATE of the balance
(`points_balance >= n` for debits, so it can never go below zero even under concurrent
tills), then an entry whose `balance_after` is read back under that row lock. The ledger
always satisfies: balance == Σ delta == the last entry's balance_after.

The points helpers (`earn_points`, `redeem_points`, `refund_points`, `reverse_points`)
run inside the caller's transaction and do not check permissions: the sale and return
use cases that call them do (pos.sell / pos.return).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from chainstore.catalog.barcodes import gtin_check_digit
from chainstore.core import audit
from chainstore.core.errors import Conflict, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.pos.errors import MemberNotFound, PointsInsufficient
from chainstore.pos.models import Member, MemberTier, PointsEntry, PointsKind, Sale
from chainstore.sites.models import Site

__all__ = [
    "earn_points",
    "enroll_member",
    "find_member",
    "get_member",
    "list_points",
    "lookup_member",
    "redeem_points",
    "refund_points",
    "reverse_points",
]

_PHONE = re.compile(r"^\+?[0-9]{5,19}$")
_CARD = re.compile(r"^[0-9A-Za-z-]{4,32}$")
CARD_PREFIX = "88"


# -- reads -----------------------------------------------------------------------------
def find_member(q: str) -> Member | None:
    """The member whose card number, else phone, is exactly `q` (None if none). A card
    number wins over another member's phone: a scanned card is that card's member."""
    q = (q or "").strip()
    if not q:
        return None
    found = list(Member.objects.select_related("tier").filter(Q(phone=q) | Q(card_number=q)))
    return next((m for m in found if m.card_number == q), found[0] if found else None)


def lookup_member(*, q: str, actor: Any) -> Member:
    """Look a member up by phone or card number (pos.members)."""
    ensure_can(actor, "pos.members")
    member = find_member(q)
    if member is None:
        raise MemberNotFound(q=q)
    return member


def get_member(*, member_id: int, actor: Any) -> Member:
    ensure_can(actor, "pos.member_records")
    member = Member.objects.select_related("tier", "home_store").filter(pk=member_id).first()
    if member is None:
        raise MemberNotFound(member=member_id)
    return member


def list_points(*, member: Member, actor: Any) -> QuerySet[PointsEntry]:
    """The member's points ledger, newest first (pos.member_records)."""
    ensure_can(actor, "pos.member_records")
    return PointsEntry.objects.filter(member=member).select_related("sale").order_by("-id")


# -- enrolment -------------------------------------------------------------------------
@transaction.atomic
def enroll_member(
    *,
    phone: str,
    actor: Any,
    name: str = "",
    card_number: str | None = None,
    tier: MemberTier | None = None,
    home_store: Site | None = None,
) -> Member:
    """Enrol a shopper (pos.members; at the home store if given). Without a card number a
    12-digit one is generated ("88" + 9 random digits + a mod-10 check digit)."""
    ensure_can(actor, "pos.members", sites=[home_store.pk] if home_store else [])
    phone = phone.strip().replace(" ", "")
    if not _PHONE.match(phone):
        raise ValidationFailed(_("Give a valid phone number."), code="invalid_phone", phone=phone)
    if len(name) > 100:
        raise ValidationFailed(_("The name is too long."), code="invalid_name")
    if card_number is not None:
        card_number = card_number.strip()
        if not _CARD.match(card_number):
            raise ValidationFailed(
                _("A card number is 4-32 letters, digits or dashes."), code="invalid_card_number"
            )
    default = _default_tier()
    if tier is not None and tier.pk != default.pk:
        ensure_can(actor, "pos.member_records")  # a cashier enrols at the base tier only
    tier = tier or default
    # Phones and card numbers share one look-up (find_member): neither may be another
    # member's phone or card number, or a shopper could be taken for someone else.
    if Member.objects.filter(Q(phone=phone) | Q(card_number=phone)).exists():
        raise Conflict(_("A member with this phone exists."), code="duplicate_phone", phone=phone)
    if card_number is not None and Member.objects.filter(phone=card_number).exists():
        raise Conflict(
            _("This card number is taken."), code="duplicate_card_number", card=card_number
        )
    member = _create(phone, name.strip(), card_number, tier, home_store)
    audit.record(
        actor=actor,
        action="pos.member.enroll",
        obj=member,
        to_state="active",
        site_id=home_store.pk if home_store else None,
        data={"card_number": member.card_number, "tier": tier.code},
    )
    return member


def _create(
    phone: str, name: str, card: str | None, tier: MemberTier, home_store: Site | None
) -> Member:
    for _attempt in range(10):
        number = card or _new_card_number()
        if card is None and Member.objects.filter(phone=number).exists():
            continue  # a generated number that is someone's phone: draw again
        try:
            with transaction.atomic():
                return Member.objects.create(
                    card_number=number, phone=phone, name=name, tier=tier, home_store=home_store
                )
        except IntegrityError:
            if Member.objects.filter(phone=phone).exists():
                raise Conflict(
                    _("A member with this phone exists."), code="duplicate_phone", phone=phone
                ) from None
            if card is not None:
                raise Conflict(
                    _("This card number is taken."), code="duplicate_card_number", card=card
                ) from None
    raise Conflict(_("Could not allocate a card number; try again."), code="card_number_busy")


def _new_card_number() -> str:
    payload = f"{CARD_PREFIX}{secrets.randbelow(10**9):09d}"
    return payload + str(gtin_check_digit(payload))


def _default_tier() -> MemberTier:
    tier = MemberTier.objects.order_by("rank", "id").first()
    if tier is not None:
        return tier
    tier, _created = MemberTier.objects.get_or_create(
        code="basic", defaults={"name": "普通会员", "rank": 0, "points_per_yuan": 1}
    )
    return tier


# -- points ledger ---------------------------------------------------------------------
def earn_points(
    *, member: Member, points: int, sale: Sale | None, actor: Any, note: str = ""
) -> PointsEntry:
    """Credit points earned by a sale."""
    return _post(member, points, +1, PointsKind.EARN, sale, actor, note)


def redeem_points(
    *, member: Member, points: int, sale: Sale | None, actor: Any, note: str = ""
) -> PointsEntry:
    """Debit points used as a tender; `PointsInsufficient` (409) if the balance is short."""
    return _post(member, points, -1, PointsKind.REDEEM, sale, actor, note)


def refund_points(
    *, member: Member, points: int, sale: Sale | None, actor: Any, note: str = ""
) -> PointsEntry:
    """Credit back points that paid for returned goods (a points tender refunded)."""
    return _post(member, points, +1, PointsKind.REFUND, sale, actor, note)


def reverse_points(
    *,
    member: Member,
    points: int,
    sale: Sale | None,
    actor: Any,
    note: str = "",
    clamp: bool = False,
) -> PointsEntry | None:
    """Take back points a returned sale had earned. If the member has already spent them,
    refuse (`PointsInsufficient`), or with clamp=True take what is left (None if nothing)."""
    try:
        with transaction.atomic():
            return _post(member, points, -1, PointsKind.REVERSE, sale, actor, note)
    except PointsInsufficient:
        if not clamp:
            raise
    balance = Member.objects.select_for_update().values_list("points_balance", flat=True)
    available = min(points, balance.get(pk=member.pk))
    if available <= 0:
        return None
    return _post(member, available, -1, PointsKind.REVERSE, sale, actor, note)


def _post(
    member: Member, points: int, sign: int, kind: str, sale: Sale | None, actor: Any, note: str
) -> PointsEntry:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise ValidationFailed(
            _("Points must be a whole number above zero."), code="invalid_points", points=points
        )
    delta = sign * points
    qs = Member.objects.filter(pk=member.pk)
    if delta < 0:
        qs = qs.filter(points_balance__gte=-delta)
    if not qs.update(points_balance=F("points_balance") + delta):
        balance = Member.objects.filter(pk=member.pk).values_list("points_balance", flat=True)
        raise PointsInsufficient(
            member=member.card_number, requested=-delta, balance=balance.first()
        )
    # Our UPDATE holds the row lock until commit: the balance read back is ours.
    after = Member.objects.values_list("points_balance", flat=True).get(pk=member.pk)
    member.points_balance = after
    return PointsEntry.objects.create(
        member=member,
        kind=kind,
        delta=delta,
        balance_after=after,
        sale=sale,
        note=note[:200],
        actor=actor if getattr(actor, "pk", None) else None,
    )
