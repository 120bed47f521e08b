"""Back office use cases at the store: tills, POS settings (pos.settings, in the user's
stores), gift cards (pos.settings) and member records (pos.members)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import Conflict, InvalidState
from chainstore.core.idempotency import fingerprint, run_idempotent
from chainstore.core.permissions import ensure_can
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    Member,
    MemberTier,
    Shift,
    ShiftStatus,
    ShortSalePolicy,
    StoreSettings,
    Till,
)
from chainstore.pos.services.admin import by_code, check_code, stores_by_code, unique_or
from chainstore.pos.services.admin_params import invalid
from chainstore.pos.services.members import enroll_member
from chainstore.sites.models import Site, SiteKind

MAX_GIFT_CARD_FEN = 100_000_000  # ¥1,000,000
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9]$")
CARD_RE = re.compile(r"^[A-Za-z0-9\-]{4,32}$")


def _check_store(store: Site) -> None:
    if store.kind != SiteKind.STORE:
        invalid("store", _("Not a store."), code="not_a_store", store=store.code)


# -- store settings ------------------------------------------------------------------------
@dataclass(frozen=True)
class SettingsInput:
    short_sale_policy: str
    receipt_header: str = ""
    receipt_footer: str = ""
    points_per_yuan_redeemed: int = 100


@transaction.atomic
def update_store_settings(*, store: Site, data: SettingsInput, actor: Any) -> StoreSettings:
    ensure_can(actor, "pos.settings", sites=[store.pk])
    _check_store(store)
    if data.short_sale_policy not in ShortSalePolicy.values:
        invalid("short_sale_policy", _("Not one of the choices."), code="invalid_choice")
    for name in ("receipt_header", "receipt_footer"):
        if len(getattr(data, name)) > 200:
            invalid(name, _("At most 200 characters."))
    if not 1 <= data.points_per_yuan_redeemed <= 100_000:
        invalid("points_per_yuan_redeemed", _("Between 1 and 100,000 points per yuan."))
    settings, _created = StoreSettings.objects.select_for_update().get_or_create(site=store)
    fields = {
        "short_sale_policy": data.short_sale_policy,
        "receipt_header": data.receipt_header.strip(),
        "receipt_footer": data.receipt_footer.strip(),
        "points_per_yuan_redeemed": data.points_per_yuan_redeemed,
    }
    changed = {k: v for k, v in fields.items() if getattr(settings, k) != v}
    if changed:
        audit.save_changes(
            settings, changed, actor=actor, action="pos_settings.update", site_id=store.pk
        )
    return settings


# -- tills ---------------------------------------------------------------------------------
@transaction.atomic
def create_till(*, store: Site, code: str, name: str, actor: Any) -> Till:
    ensure_can(actor, "pos.settings", sites=[store.pk])
    _check_store(store)
    code = check_code(code, "code", max_length=20)
    name = _till_name(name)
    duplicate = Conflict(
        _("This store already has a till with this code."), code="duplicate_till", field="code"
    )
    if Till.objects.filter(site=store, code=code).exists():
        raise duplicate
    with unique_or(duplicate):
        till = Till.objects.create(site=store, code=code, name=name)
    audit.record(actor=actor, action="till.create", obj=till, to_state="active", site_id=store.pk)
    return till


@transaction.atomic
def update_till(*, till: Till, name: str, is_active: bool, actor: Any) -> Till:
    """Rename, deactivate or reactivate a till; a till with an open shift stays active."""
    ensure_can(actor, "pos.settings", sites=[till.site_id])
    till = Till.objects.select_for_update().get(pk=till.pk)
    name = _till_name(name)
    if till.is_active and not is_active and _has_open_shift(till):
        raise InvalidState(
            _("This till has an open shift; close it first."), code="till_has_open_shift"
        )
    before = "active" if till.is_active else "inactive"
    changed = {k: v for k, v in {"name": name, "is_active": is_active}.items()
               if getattr(till, k) != v}  # fmt: skip
    if not changed:
        return till
    for key, value in changed.items():
        setattr(till, key, value)
    till.save(update_fields=list(changed))
    audit.record(
        actor=actor,
        action="till.update",
        obj=till,
        from_state=before,
        to_state="active" if till.is_active else "inactive",
        site_id=till.site_id,
        data={k: str(v) for k, v in changed.items()},
    )
    return till


def _till_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > 100:
        invalid("name", _("At most 100 characters."))
    return name


def _has_open_shift(till: Till) -> bool:
    return Shift.objects.filter(till=till, status=ShiftStatus.OPEN).exists()


# -- gift cards ----------------------------------------------------------------------------
@transaction.atomic
def issue_gift_card(*, amount_fen: int, actor: Any, number: str = "") -> GiftCard:
    """A new gift card loaded with `amount_fen` (the number is generated when not given)."""
    ensure_can(actor, "pos.settings")
    _check_amount(amount_fen)
    number = (number or "").strip().upper()
    if number and not CARD_RE.match(number):
        invalid("number", _("A card number is 4 to 32 letters, digits or dashes."))
    card = None
    for _attempt in range(5):
        candidate = number or f"GC{secrets.randbelow(10**10):010d}"
        if GiftCard.objects.filter(number=candidate).exists():
            if number:
                raise Conflict(
                    _("A gift card with this number exists."),
                    code="duplicate_gift_card",
                    field="number",
                )
            continue
        try:
            with transaction.atomic():
                card = GiftCard.objects.create(number=candidate, balance_fen=amount_fen)
        except IntegrityError:
            if number:
                raise Conflict(
                    _("A gift card with this number exists."),
                    code="duplicate_gift_card",
                    field="number",
                ) from None
            continue
        break
    if card is None:  # pragma: no cover - five random collisions in a row
        raise Conflict(_("Could not find a free card number; try again."))
    GiftCardEntry.objects.create(card=card, delta_fen=amount_fen, balance_after_fen=amount_fen)
    audit.record(
        actor=actor,
        action="gift_card.issue",
        obj=card,
        to_state="active",
        data={"amount_fen": amount_fen},
    )
    return card


@transaction.atomic
def top_up_gift_card(
    *, card: GiftCard, amount_fen: int, actor: Any, idempotency_key: str | None = None
) -> GiftCard:
    """Load money onto a card. With a key, a retry of the same top-up loads it once (the
    answer is the card, marked `replayed`); the same key for another top-up is 409."""
    ensure_can(actor, "pos.settings")
    _check_amount(amount_fen)
    request_hash = fingerprint({"op": "gift_card.top_up", "card": card.pk, "amount": amount_fen})

    def create() -> GiftCardEntry:
        locked = GiftCard.objects.select_for_update().get(pk=card.pk)
        if not locked.is_active:
            raise InvalidState(_("This gift card is inactive."), code="gift_card_inactive")
        if locked.balance_fen + amount_fen > MAX_GIFT_CARD_FEN:
            invalid("amount", _("The balance would exceed ¥1,000,000."), code="balance_too_high")
        GiftCard.objects.filter(pk=locked.pk).update(balance_fen=F("balance_fen") + amount_fen)
        locked.refresh_from_db(fields=["balance_fen"])
        entry = GiftCardEntry.objects.create(
            card=locked,
            delta_fen=amount_fen,
            balance_after_fen=locked.balance_fen,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        audit.record(
            actor=actor,
            action="gift_card.top_up",
            obj=locked,
            data={"amount_fen": amount_fen, "balance_after_fen": locked.balance_fen},
        )
        return entry

    entry = run_idempotent(
        key=idempotency_key,
        request_hash=request_hash,
        find=lambda key: GiftCardEntry.objects.filter(idempotency_key=key).first(),
        create=create,
    )
    topped = GiftCard.objects.get(pk=entry.card_id)
    topped.replayed = entry.replayed  # type: ignore[attr-defined]
    return topped


def _check_amount(amount_fen: int) -> None:
    if not 0 < amount_fen <= MAX_GIFT_CARD_FEN:
        invalid("amount", _("The amount is more than 0 and at most ¥1,000,000."))


# -- members -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberInput:
    phone: str
    name: str = ""
    tier: str = ""  # tier code; empty = the lowest tier
    home_store: str = ""  # store code
    is_active: bool = True


def enroll(*, data: MemberInput, card_number: str, actor: Any) -> Member:
    """Enrol a member from the back office: the checks of `update_member`, then the
    till's own enrolment (members.enroll_member: card number, audit)."""
    ensure_can(actor, "pos.members")
    fields = check_member(data)
    return enroll_member(
        phone=fields["phone"],
        name=fields["name"],
        card_number=card_number.strip() or None,
        tier=fields["tier"],
        home_store=fields["home_store"],
        actor=actor,
    )


@transaction.atomic
def update_member(*, member: Member, data: MemberInput, actor: Any) -> Member:
    """Change a member's phone, name, tier, home store or active flag (the card stays)."""
    ensure_can(actor, "pos.member_records")
    member = Member.objects.select_for_update().get(pk=member.pk)
    fields = check_member(data, exclude=member.pk)
    changed = {k: v for k, v in fields.items() if getattr(member, k) != v}
    if changed:
        audit.save_changes(member, changed, actor=actor, action="member.update")
    return member


def check_member(data: MemberInput, *, exclude: int | None = None) -> dict[str, Any]:
    """The member fields `data` stands for, checked (phone unique, tier and store known)."""
    phone = re.sub(r"[\s\-]", "", data.phone or "")
    if not PHONE_RE.match(phone):
        invalid("phone", _("Enter a phone number of 6 to 20 digits."), code="invalid_phone")
    # Phones and card numbers share one look-up: a phone may not be another member's card.
    same_phone = Member.objects.filter(Q(phone=phone) | Q(card_number=phone))
    if exclude is not None:
        same_phone = same_phone.exclude(pk=exclude)
    if same_phone.exists():
        raise Conflict(
            _("Another member has this phone number."), code="duplicate_phone", field="phone"
        )
    if len(data.name.strip()) > 100:
        invalid("name", _("At most 100 characters."))
    tier = by_code(MemberTier, "tier", [data.tier])[0] if data.tier else lowest_tier()
    home = stores_by_code("home_store", [data.home_store])[0] if data.home_store else None
    return {
        "phone": phone,
        "name": data.name.strip(),
        "tier": tier,
        "home_store": home,
        "is_active": data.is_active,
    }


def lowest_tier() -> MemberTier:
    tier = MemberTier.objects.order_by("rank", "pk").first()
    if tier is None:
        invalid("tier", _("Create a member tier first."), code="no_member_tiers")
    return tier
