"""A shopper's choices around the payment, shared by the simulated and live terminals."""

from __future__ import annotations

from enum import StrEnum

from scanrush.domain.gateway import PCREDIT
from scanrush.domain.outcomes import Cause
from scanrush.domain.world import Merchant
from scanrush.scenario.schema import OnFailure


class Choice(StrEnum):
    RETRY_NEW_CODE = "retry_new_code"
    OTHER_METHOD = "other_method"
    LEAVE = "leave"


def after_failure(policy: OnFailure, u: float, retries_done: int) -> Choice:
    """What a shopper does after a failed Huabei attempt (one uniform per decision).

    Once the retries are used up, the retry share is split between paying
    another way and leaving in their original proportion.
    """
    if retries_done < policy.max_retries:
        if u < policy.retry_new_code:
            return _RETRY_NEW_CODE
        return _OTHER_METHOD if u < policy.retry_new_code + policy.other_method else _LEAVE
    rest = policy.other_method + policy.leave
    if rest <= 0:
        return _OTHER_METHOD
    return _OTHER_METHOD if u * rest < policy.other_method else _LEAVE


def is_huabei(fund_channel: str | None) -> bool:
    return fund_channel == PCREDIT


def fallback_cause(merchant: Merchant) -> Cause:
    """Why a payment went through on another channel than Huabei.

    The reply only says which channel paid; the harness knows its world, so it
    can tell a merchant without Huabei receipts from a shopper without credit.
    """
    return _MERCHANT if not merchant.huabei_enabled else _CREDIT


# Enum members as module constants: reading a member off its class goes through EnumType's
# __getattr__ hook (~0.2 us in 3.11), and these run after every failed attempt.
_RETRY_NEW_CODE, _OTHER_METHOD, _LEAVE = Choice.RETRY_NEW_CODE, Choice.OTHER_METHOD, Choice.LEAVE
_MERCHANT, _CREDIT = Cause.MERCHANT, Cause.CREDIT
