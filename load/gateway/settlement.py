"""The live ledger's audit: trades still waiting, double charges, end-of-test settlement.

The simulator settles each checkout as its terminal finishes it; the stub only
sees requests, so it settles at the end of a test.  A checkout is one buyer's
trades: every attempt of a shopper (their codes are ``serial * 16 + attempt``)
or, for a code that is nobody's, that code's trades.  Without word from the
terminals, the stub takes a checkout's last paid trade as the one its terminal
acknowledged; terminals that know better post their checkouts instead
(``POST /control/ledger``), and the ledger is told exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from load.world import LiveWorld
from scanrush.domain.ledger import Ledger
from scanrush.domain.replies import TRADE_SUCCESS, WAIT_BUYER_PAY


@dataclass(frozen=True, slots=True)
class Checkout:
    """What a terminal knows about one shopper's payment: its trades, which it recorded as paid."""

    trades: tuple[str, ...]
    acknowledged: str | None = None
    paid_otherwise: bool = False


class Settlement:
    """Audits one ledger; remembers what it settled so that settling again adds only new trades."""

    def __init__(self, ledger: Ledger, live: LiveWorld) -> None:
        self._ledger = ledger
        self._live = live
        self._settled: set[str] = set()
        self._acknowledged: set[str] = set()

    def view(self, now: float) -> dict[str, Any]:
        """The audit so far plus what is open right now (reading settles lazy confirmations)."""
        statuses = {out: self._ledger.query(out, now).trade_status for out in self._ledger.trades}
        paid_by_buyer: dict[str, list[str]] = {}
        for out, status in statuses.items():
            if status == TRADE_SUCCESS:
                paid_by_buyer.setdefault(self._buyer(out), []).append(out)
        doubles = {buyer: outs for buyer, outs in paid_by_buyer.items() if len(outs) > 1}
        return {
            "audit": self._ledger.audit.as_dict(),
            "scenario_time": now,
            "trades": len(statuses),
            "settled": len(self._settled),
            "waiting": sorted(out for out, status in statuses.items() if status == WAIT_BUYER_PAY),
            "double_charged_buyers": doubles,
            "open_loops": self._open_loops(statuses),
        }

    def _open_loops(self, statuses: Mapping[str, str | None]) -> dict[str, str]:
        """Settled trades that are not closed-loop, and why (the audit counts them; this names them)."""
        found: dict[str, str] = {}
        for out in sorted(self._settled):
            trade = self._ledger.trades.get(out)
            if trade is None:
                continue
            if statuses.get(out) == WAIT_BUYER_PAY:
                found[out] = "still waiting for the buyer"
            elif trade.eventual_status() == TRADE_SUCCESS and out not in self._acknowledged:
                found[out] = "paid, but no till recorded it (one-sided)"
        return found

    def settle_by_buyer(self, now: float) -> None:
        """Settle every unsettled trade, grouped by buyer, assuming each checkout's last paid trade was seen."""
        groups: dict[str, list[str]] = {}
        for out in self._ledger.trades:
            if out not in self._settled:
                groups.setdefault(self._buyer(out), []).append(out)
        for trades in groups.values():
            paid = [out for out in trades if self._ledger.trades[out].eventual_status() == TRADE_SUCCESS]
            self.settle([Checkout(tuple(trades), paid[-1] if paid else None)], now)

    def settle(self, checkouts: Iterable[Checkout], now: float) -> None:
        """Settle checkouts as their terminals report them (trades already settled are skipped)."""
        for checkout in checkouts:
            fresh = [out for out in checkout.trades if out not in self._settled]
            self._ledger.settle(fresh, checkout.acknowledged, checkout.paid_otherwise, now, forget=False)
            self._settled.update(fresh)
            if checkout.acknowledged in fresh:
                self._acknowledged.add(checkout.acknowledged)

    def _buyer(self, out_trade_no: str) -> str:
        code = self._ledger.trades[out_trade_no].auth_code
        owner = self._live.owner_of(code)
        return f"shopper:{owner.shopper.serial}" if owner else f"code:{code}"


def checkouts_of(data: object) -> list[Checkout]:
    """Checkouts from ``{"checkouts": [...]}`` or from one checkout alone.

    A checkout is ``{"trades": [out_trade_no, ...], "acknowledged": ..., "paid_otherwise": ...}``.
    """
    if isinstance(data, Mapping) and "trades" in data:
        return [_checkout(data)]  # one till reporting the checkout it just finished
    if not isinstance(data, Mapping) or not isinstance(data.get("checkouts"), list):
        raise ValueError('expected {"checkouts": [{"trades": [out_trade_no, ...], "acknowledged": ..., '
                         '"paid_otherwise": false}, ...]}')
    return [_checkout(item) for item in data["checkouts"]]


def _checkout(item: object) -> Checkout:
    if not isinstance(item, Mapping):
        raise ValueError("each checkout is an object")
    trades = item.get("trades")
    acknowledged = item.get("acknowledged")
    paid_otherwise = item.get("paid_otherwise", False)
    if not _strings(trades) or not (acknowledged is None or isinstance(acknowledged, str)):
        raise ValueError("a checkout has trades (a list of out_trade_no) and acknowledged (one of them, or null)")
    if not isinstance(paid_otherwise, bool):
        raise ValueError("paid_otherwise is true or false")
    return Checkout(tuple(trades), acknowledged, paid_otherwise)


def _strings(value: object) -> TypeGuard[Sequence[str]]:
    return isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(v, str) for v in value)
