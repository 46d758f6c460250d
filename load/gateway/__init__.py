"""The live Alipay gateway stub: a real HTTP server speaking Alipay's open-platform protocol.

Modules, from the wire inwards:

    wire.py        request/response format, both directions (no HTTP library: Locust can use it)
    signing.py     RSA2 keys, request verification, response signatures
    parse.py       common parameters and biz_content checks -> 40001/40002/40006
    business.py    pay/query/cancel (GatewayCore, shared with the simulator), refund/close
    render.py      Alipay's response fields from replies and trades
    capacity.py    workers with a queue timeout; clock.py scenario time
    settlement.py  the ledger audit and end-of-test settlement
    app.py         aiohttp handlers; server.py GatewayStub; client.py GatewayClient
"""
