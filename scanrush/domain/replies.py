"""Gateway replies as the terminal sees them, and which cause each one points to.

Codes and sub_codes follow Alipay's face-to-face payment (shared/reference/alipay.md
§1.3, §1.5).  Classification is by what the terminal observes, so the simulator
and the live path attribute a failure to the same cause.
"""

from __future__ import annotations

from typing import NamedTuple

from scanrush.domain.outcomes import Cause

SUCCESS = "10000"
WAITING = "10003"
UNKNOWN = "20000"
FAILED = "40004"
MISSING_PARAM = "40001"
INVALID_PARAM = "40002"

TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_FINISHED = "TRADE_FINISHED"
TRADE_CLOSED = "TRADE_CLOSED"
WAIT_BUYER_PAY = "WAIT_BUYER_PAY"

SUB_CODE_CAUSES: dict[str, Cause] = {
    "ACQ.PAYMENT_AUTH_CODE_INVALID": Cause.FIRMWARE,
    "ACQ.INVALID_STORE_ID": Cause.FIRMWARE,
    "ACQ.INVALID_PARAMETER": Cause.FIRMWARE,
    "ACQ.TOTAL_FEE_EXCEED": Cause.FIRMWARE,
    "ACQ.EXIST_FORBIDDEN_WORD": Cause.FIRMWARE,
    "ACQ.CONTEXT_INCONSISTENT": Cause.FIRMWARE,
    "ACQ.TRADE_BUYER_NOT_MATCH": Cause.FIRMWARE,
    "ACQ.NOT_SUPPORT_PAYMENT_INST": Cause.FIRMWARE,
    "ACQ.ACCESS_FORBIDDEN": Cause.MERCHANT,
    "ACQ.MERCHANT_AGREEMENT_INVALID": Cause.MERCHANT,
    "ACQ.MERCHANT_AGREEMENT_NOT_EXIST": Cause.MERCHANT,
    "ACQ.MERCHANT_STATUS_NOT_NORMAL": Cause.MERCHANT,
    "ACQ.BEYOND_PER_RECEIPT_SINGLE_RESTRICTION": Cause.MERCHANT,
    "ACQ.BEYOND_PER_RECEIPT_DAY_RESTRICTION": Cause.MERCHANT,
    "ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE": Cause.CREDIT,
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": Cause.CREDIT,
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR": Cause.CREDIT,
    "ACQ.PULL_MOBILE_CASHIER_FAIL": Cause.CREDIT,
    "ACQ.PAYMENT_REQUEST_HAS_RISK": Cause.RISK,
    "ACQ.PAYMENT_FAIL": Cause.RISK,
    "ACQ.BUYER_ENABLE_STATUS_FORBID": Cause.RISK,
    "ACQ.SYSTEM_ERROR": Cause.CAPACITY,
    "aop.ACQ.SYSTEM_ERROR": Cause.CAPACITY,
    "ACQ.TRADE_HAS_CLOSE": Cause.NETWORK,
}


class Reply(NamedTuple):
    """One gateway answer: envelope code, business sub_code and the trade's state."""

    code: str
    sub_code: str | None = None
    sub_msg: str | None = None
    trade_status: str | None = None
    fund_channel: str | None = None
    action: str | None = None
    retry_flag: str | None = None
    trade_no: str | None = None

    @property
    def paid(self) -> bool:
        return self.trade_status in (TRADE_SUCCESS, TRADE_FINISHED) or (
            self.code == SUCCESS and self.trade_status is None and self.action is None
        )

    @property
    def key(self) -> str:
        """Compact label for attempt statistics, e.g. ``40004:ACQ.PAYMENT_REQUEST_HAS_RISK``."""
        return f"{self.code}:{self.sub_code}" if self.sub_code else self.code


MERCHANT_HUABEI_OFF = "merchant has not enabled Huabei receipts"
"""``sub_msg`` of NO_PAYMENT_INSTRUMENTS_AVAILABLE when the merchant, not the buyer, is why."""


def cause_of(reply: Reply) -> Cause | None:
    """The cause a failed reply points to, or None when it is not a failure."""
    if reply.sub_msg == MERCHANT_HUABEI_OFF:
        return _MERCHANT
    if reply.sub_code is not None:
        bare = reply.sub_code.removeprefix("aop.")
        if bare in SUB_CODE_CAUSES:
            return SUB_CODE_CAUSES[bare]
    if reply.code == UNKNOWN:
        return _CAPACITY
    if reply.code in (MISSING_PARAM, INVALID_PARAM):
        return _FIRMWARE
    if reply.code == FAILED:
        return _RISK
    return None


def is_unknown(reply: Reply) -> bool:
    """20000, or a SYSTEM_ERROR under any code: the trade may or may not exist."""
    return reply.code == UNKNOWN or (reply.sub_code or "").endswith("ACQ.SYSTEM_ERROR")


# Enum members as module constants: reading a member off its class goes through EnumType's
# __getattr__ hook (~0.2 us in 3.11), and cause_of runs per failed reply.
_MERCHANT, _CAPACITY, _FIRMWARE, _RISK = Cause.MERCHANT, Cause.CAPACITY, Cause.FIRMWARE, Cause.RISK
