"""A small async client for the gateway (aiohttp): builds Alipay requests, reads replies as ``Reply``.

    async with GatewayClient(stub.url) as gateway:
        reply = await gateway.pay("T1S42A0", code, 88.0, store_id="3")
        if reply.code == "10003":
            reply = await gateway.query("T1S42A0")

Processes that bring their own HTTP client (the Locust terminals) use
:mod:`load.gateway.wire` directly; it has no HTTP dependency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp

from load.gateway.wire import (
    CANCEL,
    CLOSE,
    PAY,
    QUERY,
    REFUND,
    Fields,
    TextSigner,
    TextVerifier,
    amount_text,
    decode_response,
    reply_of,
    request_params,
)
from scanrush.domain.replies import Reply

DEFAULT_APP_ID = "2021000000000000"
"""A sandbox-style app id; the stub accepts any (it has one app's key, if any)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    """HTTP status (200 for every Alipay answer, including business failures)."""
    fields: Fields
    """The ``*_response`` object."""
    reply: Reply
    body: str


class GatewayClient:
    def __init__(self, url: str, *, app_id: str = DEFAULT_APP_ID, signer: TextSigner | None = None,
                 verifier: TextVerifier | None = None, session: aiohttp.ClientSession | None = None,
                 timeout: float = 15.0) -> None:
        """``signer``: the app's private key (signs requests); ``verifier``: the gateway's public key."""
        self.url = url
        self.app_id = app_id
        self._signer = signer
        self._verifier = verifier
        self._own_session = session is None
        self._session = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    async def close(self) -> None:
        if self._own_session:
            await self._session.close()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def call(self, method: str, biz: Mapping[str, Any], **extra: str) -> Response:
        """One gateway call; ``extra`` common parameters are added (and signed) as given."""
        params = request_params(method, biz, app_id=self.app_id, signer=self._signer, extra=extra)
        return await self.post(method, params)

    async def post(self, method: str | None, params: Mapping[str, str]) -> Response:
        """Send ready-made form fields (for tests of malformed requests) and decode the answer."""
        async with self._session.post(self.url, data=dict(params)) as response:
            body = await response.text()
            fields = decode_response(method, body, self._verifier)
            return Response(response.status, fields, reply_of(fields), body)

    async def pay(self, out_trade_no: str, auth_code: str, amount: float, *, subject: str = "promotion",
                  store_id: str | None = None, terminal_id: str | None = None) -> Reply:
        biz: dict[str, Any] = {"out_trade_no": out_trade_no, "scene": "bar_code", "auth_code": auth_code,
                               "product_code": "FACE_TO_FACE_PAYMENT", "subject": subject,
                               "total_amount": amount_text(amount)}
        if store_id is not None:
            biz["store_id"] = store_id
        if terminal_id is not None:
            biz["terminal_id"] = terminal_id
        return (await self.call(PAY, biz)).reply

    async def query(self, out_trade_no: str) -> Reply:
        return (await self.call(QUERY, {"out_trade_no": out_trade_no})).reply

    async def cancel(self, out_trade_no: str) -> Reply:
        return (await self.call(CANCEL, {"out_trade_no": out_trade_no})).reply

    async def refund(self, out_trade_no: str, amount: float) -> Reply:
        return (await self.call(REFUND, {"out_trade_no": out_trade_no, "refund_amount": amount_text(amount)})).reply

    async def close_trade(self, out_trade_no: str) -> Reply:
        return (await self.call(CLOSE, {"out_trade_no": out_trade_no})).reply
