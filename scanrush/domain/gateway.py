"""The gateway's decision on a pay request: one pure function, shared by sim and live.

``decide_pay`` knows nothing about time, sockets or queues: the caller tells it
the gateway's load (busy, brownout) and hands it the uniform it uses for risk
control, so the same inputs always give the same reply.  Idempotency and trade
state live in :mod:`scanrush.domain.ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from scanrush.domain.codes import is_valid_alipay
from scanrush.domain.replies import FAILED, MERCHANT_HUABEI_OFF, SUCCESS, UNKNOWN, WAITING, Reply
from scanrush.domain.world import Merchant

PCREDIT = "PCREDIT"
BALANCE = "ALIPAYACCOUNT"


class PayRequest(NamedTuple):
    """What a terminal sends with ``alipay.trade.pay`` (scene=bar_code)."""

    out_trade_no: str
    auth_code: str
    amount: float
    merchant: int
    terminal: int
    store_id_valid: bool = True
    subject: str = "promotion"


class Buyer(Protocol):
    """The platform's view of the buyer behind a payment code.

    A simulated :class:`~scanrush.domain.shoppers.Shopper` is one, so the
    simulator passes shoppers straight in; the live stub uses :class:`BuyerProfile`.
    """

    @property
    def huabei_opened(self) -> bool: ...
    @property
    def frozen(self) -> bool: ...
    @property
    def available_credit(self) -> float: ...
    @property
    def has_fallback(self) -> bool: ...
    @property
    def confirm_time(self) -> float | None:
        """Seconds the buyer takes to confirm on the phone; None: never confirms."""


@dataclass(frozen=True, slots=True)
class BuyerProfile:
    huabei_opened: bool
    frozen: bool
    available_credit: float
    has_fallback: bool
    confirm_time: float | None


class Load(NamedTuple):
    """What the gateway's capacity says about this request."""

    busy: bool = False
    brownout_error: bool = False
    rate_limited: bool = False


class Decision(NamedTuple):
    reply: Reply
    creates_trade: bool = False
    confirm_in: float | None = None
    """For 10003: seconds until the buyer confirms (None: never)."""
    burns_code: bool = True


IDLE = Load()


_FAILS: dict[tuple[str, str], Decision] = {}


def _fail(sub_code: str, sub_msg: str) -> Decision:
    # Decisions are immutable and the messages constants, so each failure is built once.
    key = (sub_code, sub_msg)
    found = _FAILS.get(key)
    if found is None:
        found = _FAILS[key] = Decision(Reply(FAILED, sub_code, sub_msg))
    return found


def system_error(reason: str) -> Reply:
    """20000 / aop.ACQ.SYSTEM_ERROR: the gateway did not process the request (any method)."""
    return Reply(UNKNOWN, "aop.ACQ.SYSTEM_ERROR", reason)


BUSY = system_error("system busy")


def _system_error(reason: str) -> Decision:
    return Decision(system_error(reason), burns_code=False)


def _check_load(load: Load) -> Decision | None:
    if load.busy:
        return _system_error("system busy")
    if load.brownout_error:
        return _system_error("service degraded")
    if load.rate_limited:
        return _system_error("merchant request rate limited")
    return None


def _check_merchant(merchant: Merchant, amount: float, received_today: float) -> Decision | None:
    if not merchant.qualified:
        return _fail("ACQ.ACCESS_FORBIDDEN", "face-to-face payment not contracted or expired")
    if merchant.dormant:
        return _fail("ACQ.MERCHANT_STATUS_NOT_NORMAL", "merchant inactive; re-activate")
    if merchant.personal and amount > merchant.single_limit:
        return _fail("ACQ.BEYOND_PER_RECEIPT_SINGLE_RESTRICTION", "single receipt above the account's limit")
    if merchant.personal and received_today + amount > merchant.day_limit:
        return _fail("ACQ.BEYOND_PER_RECEIPT_DAY_RESTRICTION", "daily receipts above the account's limit")
    return None


def decide_pay(
    request: PayRequest,
    buyer: Buyer,
    merchant: Merchant,
    *,
    received_today: float,
    risk_reject: float,
    u_risk: float,
    password_free_limit: float,
    load: Load = IDLE,
) -> Decision:
    """Alipay's answer to a bar-code pay request, checks in the platform's order.

    In order: the gateway's load, the request (store id, the code's shape and check
    digit, the amount), the merchant, risk control, then the channel that pays.  The
    checks a payment nearly always passes are written out here rather than called
    (this runs per payment); the ones that fail go through the helpers above.
    """
    if load is not IDLE:  # an idle gateway (nearly always) has nothing to say
        rejected = _check_load(load)
        if rejected is not None:
            return rejected
    _, auth_code, amount, _, _, store_id_valid, _ = request
    if not store_id_valid:
        return _INVALID_STORE_ID
    if not is_valid_alipay(auth_code):  # shape_of, is_alipay and decode in one call
        return _AUTH_CODE_INVALID
    if not 0.01 <= amount <= 100_000_000:
        return _TOTAL_FEE_EXCEED
    if not merchant.qualified or merchant.dormant or merchant.personal:
        rejected = _check_merchant(merchant, amount, received_today)
        if rejected is not None:
            return rejected
    if u_risk < risk_reject:
        return _HAS_RISK
    huabei_enabled = merchant.huabei_enabled
    if huabei_enabled and buyer.huabei_opened and not buyer.frozen and buyer.available_credit >= amount:
        channel = PCREDIT
    elif buyer.has_fallback:
        channel = BALANCE  # Huabei is skipped silently: the buyer's next channel pays
    else:
        return _no_channel(buyer, huabei_enabled)
    if amount > password_free_limit:
        return _new(Decision, (_WAITING_REPLIES[channel], True, buyer.confirm_time, True))
    return _PAID_NOW[channel]


def _no_channel(buyer: Buyer, huabei_enabled: bool) -> Decision:
    """Why nothing pays when Huabei is not usable and the buyer has no fallback."""
    if not huabei_enabled:
        return _fail("ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE", MERCHANT_HUABEI_OFF)
    if buyer.frozen or not buyer.huabei_opened:
        return _fail("ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE", "no usable payment instrument")
    return _fail("ACQ.BUYER_BALANCE_NOT_ENOUGH", "Huabei limit exhausted")


_new = tuple.__new__  # a NamedTuple without its Python-level __new__: this runs per payment
_WAITING_REPLIES = {channel: Reply(WAITING, fund_channel=channel) for channel in (PCREDIT, BALANCE)}
_PAID_NOW = {channel: Decision(Reply(SUCCESS, fund_channel=channel), creates_trade=True, confirm_in=0.0)
             for channel in (PCREDIT, BALANCE)}
# The failures decide_pay returns itself, made by _fail (one object per failure, as everywhere).
_INVALID_STORE_ID = _fail("ACQ.INVALID_STORE_ID", "store id not valid")
_AUTH_CODE_INVALID = _fail("ACQ.PAYMENT_AUTH_CODE_INVALID", "payment code invalid [SOUNDWAVE_PARSER_FAIL]")
_TOTAL_FEE_EXCEED = _fail("ACQ.TOTAL_FEE_EXCEED", "amount out of range")
_HAS_RISK = _fail("ACQ.PAYMENT_REQUEST_HAS_RISK", "payment judged risky by platform risk control")
