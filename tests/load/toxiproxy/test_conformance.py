"""Toxiproxy 2.12 conformance of the embedded server: one test per item of toxiproxy.md §8.

Driven through ``toxiproxy-python`` (the client users have) where it covers the call,
and raw ``http.client`` / sockets where it does not (status codes, headers, PATCH,
``/populate``, toxic updates). Timings are measured against a baseline taken on the
same connection in the same test, with tolerances for a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
from toxi_support import (
    SEED,
    EchoServer,
    connect,
    free_port,
    is_refused,
    median_rtt,
    recv_all,
    recv_exactly,
    request,
    round_trip,
    wait_until,
)
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy

from load.toxiproxy.server import ServerHandle, run_in_thread

pytestmark = pytest.mark.live

SLACK_S = 0.025  # allowed lateness of the median of several samples on a loaded machine
SLACK_ONCE_S = 0.060  # allowed lateness of a single sample (one scheduler stall fits in it)
EARLY_S = 0.002  # allowed earliness (timer and clock granularity): effects never come early


def create(echo: EchoServer, name: str = "a") -> Proxy:
    return Toxiproxy().create(upstream=echo.address, name=name)


def port_of(proxy: Proxy) -> int:
    return int(proxy.listen.rsplit(":", 1)[1])


@contextlib.contextmanager
def opened(port: int, timeout: float = 5.0) -> Iterator[socket.socket]:
    sock = connect(port, timeout)
    try:
        yield sock
    finally:
        sock.close()


def add_toxic(toxi: ServerHandle, proxy: str, body: dict[str, object]) -> dict[str, object]:
    reply = request(toxi.port, "POST", f"/proxies/{proxy}/toxics", body)
    assert reply.status == 200, reply.body
    result = reply.json()
    assert isinstance(result, dict)
    return result


def expect_eof(sock: socket.socket, timeout: float = 2.0) -> float:
    """Wait for EOF (not RST); return how long it took."""
    sock.settimeout(timeout)
    start = time.perf_counter()
    assert sock.recv(1024) == b""
    return time.perf_counter() - start


def expect_silence(sock: socket.socket, window: float) -> None:
    """Nothing at all (no data, no EOF) arrives within ``window`` seconds."""
    sock.settimeout(window)
    with pytest.raises(TimeoutError):
        sock.recv(1024)


# -- 1-13: API basics, proxies ---------------------------------------------------------------


def test_item_01_version(toxi: ServerHandle) -> None:
    reply = request(toxi.port, "GET", "/version")
    assert reply.status == 200
    assert reply.content_type == "application/json;charset=utf-8"
    assert reply.body == b'{"version": "2.12.0"}\n'
    assert Toxiproxy().version() == reply.body


def test_item_02_browser_user_agent_is_refused(toxi: ServerHandle) -> None:
    for method, path in (("GET", "/proxies"), ("GET", "/version"), ("POST", "/reset")):
        reply = request(toxi.port, method, path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
        assert reply.status == 403
        assert reply.body == b"User agent not allowed\n"
    assert request(toxi.port, "GET", "/proxies", headers={"User-Agent": "curl/8.5"}).status == 200


def test_item_03_request_id_header(toxi: ServerHandle) -> None:
    replies = [request(toxi.port, "GET", "/version"), request(toxi.port, "GET", "/proxies"),
               request(toxi.port, "GET", "/proxies/nope"), request(toxi.port, "POST", "/proxies", b"{")]
    ids = [reply.headers.get("X-Toxiproxy-Request-Id", "") for reply in replies]
    assert all(len(rid) == 20 and rid.isalnum() for rid in ids), ids
    assert len(set(ids)) == len(ids)


def test_item_04_fresh_server_has_no_proxies(toxi: ServerHandle) -> None:
    reply = request(toxi.port, "GET", "/proxies")
    assert (reply.status, reply.body, reply.content_type) == (200, b"{}", "application/json")
    assert Toxiproxy().proxies() == {}


def test_item_05_create_proxy(toxi: ServerHandle, echo: EchoServer) -> None:
    reply = request(toxi.port, "POST", "/proxies", {"name": "a", "upstream": echo.address, "listen": "127.0.0.1:0"})
    assert reply.status == 201
    body = reply.json()
    assert isinstance(body, dict)
    assert list(body) == ["name", "listen", "upstream", "enabled", "Logger", "toxics"]
    assert body["listen"].startswith("127.0.0.1:")
    assert int(body["listen"].split(":")[1]) > 0
    assert (body["enabled"], body["toxics"], body["upstream"]) == (True, [], echo.address)
    proxy = Toxiproxy().create(upstream=echo.address, name="b")
    assert proxy.enabled is True
    assert port_of(proxy) > 0


def test_item_06_bytes_echo_unchanged(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    big = bytes(range(256)) * 256  # 64 KiB
    with opened(port_of(proxy)) as sock:
        assert round_trip(sock, b"hello") < 1
        sender = threading.Thread(target=sock.sendall, args=(big,))
        sender.start()
        assert recv_exactly(sock, len(big)) == big
        sender.join()


def test_item_07_duplicate_proxy_is_409(toxi: ServerHandle, echo: EchoServer) -> None:
    create(echo)
    reply = request(toxi.port, "POST", "/proxies", {"name": "a", "upstream": echo.address})
    assert reply.status == 409
    assert reply.body == b'{"error":"proxy already exists","status":409}\n'
    with pytest.raises(ProxyExists):
        create(echo)


def test_item_08_missing_name_or_upstream_is_400(toxi: ServerHandle, echo: EchoServer) -> None:
    reply = request(toxi.port, "POST", "/proxies", {"name": "", "upstream": echo.address})
    assert (reply.status, reply.body) == (400, b'{"error":"missing required field: name","status":400}\n')
    reply = request(toxi.port, "POST", "/proxies", {"name": "a"})
    assert (reply.status, reply.body) == (400, b'{"error":"missing required field: upstream","status":400}\n')
    with pytest.raises(InvalidToxic):  # toxiproxy-python's name for every 400
        Toxiproxy().create(upstream="", name="x")


def test_item_09_non_json_body_is_400(toxi: ServerHandle) -> None:
    for body in (b"not json", b"", b'{"name": '):
        reply = request(toxi.port, "POST", "/proxies", body)
        assert reply.status == 400
        error = reply.json()
        assert isinstance(error, dict)
        assert error["error"].startswith("bad request body:"), error


def test_item_10_port_in_use_is_500_and_nothing_is_created(toxi: ServerHandle, echo: EchoServer) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        reply = request(toxi.port, "POST", "/proxies", {"name": "a", "upstream": echo.address, "listen": listen})
    assert reply.status == 500
    error = reply.json()
    assert isinstance(error, dict)
    assert "address already in use" in error["error"]
    assert error["error"] == f"listen tcp {listen}: bind: address already in use"
    assert request(toxi.port, "GET", "/proxies/a").status == 404


def test_item_11_error_replies_are_json_text_with_matching_status(toxi: ServerHandle, echo: EchoServer) -> None:
    create(echo)
    cases = [("POST", "/proxies", b"{"), ("GET", "/proxies/nope", None),
             ("POST", "/proxies", {"name": "a", "upstream": echo.address}),
             ("GET", "/proxies/a/toxics/nope", None), ("POST", "/proxies/a/toxics", {"type": "bogus"})]
    for method, path, body in cases:
        reply = request(toxi.port, method, path, body)
        error = reply.json()
        assert isinstance(error, dict)
        assert list(error) == ["error", "status"]
        assert error["status"] == reply.status >= 400
        assert reply.content_type == "text/plain; charset=utf-8"
        assert reply.body.endswith(b"}\n")


def test_item_12_localhost_listen_is_normalised_unless_disabled(toxi: ServerHandle, echo: EchoServer) -> None:
    port = free_port()
    reply = request(toxi.port, "POST", "/proxies", {"name": "a", "upstream": echo.address,
                                                     "listen": f"localhost:{port}"})
    assert reply.json()["listen"] == f"127.0.0.1:{port}"  # type: ignore[index]
    other = free_port()
    proxy = Toxiproxy().create(upstream=echo.address, name="b", listen=f"localhost:{other}", enabled=False)
    assert (proxy.listen, proxy.enabled) == (f"localhost:{other}", False)
    assert is_refused(other)


def test_item_13_proxy_index_is_keyed_by_name(toxi: ServerHandle, echo: EchoServer) -> None:
    for name in ("zone-b", "zone-a"):
        create(echo, name)
    listing = request(toxi.port, "GET", "/proxies").json()
    assert isinstance(listing, dict)
    assert list(listing) == ["zone-a", "zone-b"]
    for name, proxy in listing.items():
        assert proxy["name"] == name
        assert {"name", "listen", "upstream", "enabled", "toxics"} <= set(proxy)
    assert set(Toxiproxy().proxies()) == {"zone-a", "zone-b"}


def test_item_14_missing_proxy_is_404_everywhere(toxi: ServerHandle) -> None:
    cases = [("GET", "/proxies/nope"), ("DELETE", "/proxies/nope"), ("PATCH", "/proxies/nope"),
             ("POST", "/proxies/nope"), ("GET", "/proxies/nope/toxics"), ("POST", "/proxies/nope/toxics"),
             ("GET", "/proxies/nope/toxics/t"), ("PATCH", "/proxies/nope/toxics/t"),
             ("POST", "/proxies/nope/toxics/t"), ("DELETE", "/proxies/nope/toxics/t")]
    for method, path in cases:
        reply = request(toxi.port, method, path, {"enabled": False})
        assert (reply.status, reply.body) == (404, b'{"error":"proxy not found","status":404}\n'), (method, path)


# -- 15-21: proxy lifecycle and connections -------------------------------------------------------


def test_item_15_disable_refuses_new_and_closes_open(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    port = port_of(proxy)
    with opened(port) as sock:
        round_trip(sock)
        reply = request(toxi.port, "PATCH", "/proxies/a", {"enabled": False})
        assert reply.status == 200
        assert reply.json()["enabled"] is False  # type: ignore[index]
        expect_eof(sock)
    assert is_refused(port)
    request(toxi.port, "PATCH", "/proxies/a", {"enabled": True})
    with opened(port) as sock:  # POST, as toxiproxy-python sends it, works the same
        round_trip(sock)
        proxy.disable()
        expect_eof(sock)
    assert is_refused(port)


def test_item_16_enable_listens_on_the_same_port(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    request(toxi.port, "PATCH", "/proxies/a", {"enabled": False})
    reply = request(toxi.port, "PATCH", "/proxies/a", {"enabled": True})
    assert reply.json()["listen"] == proxy.listen  # type: ignore[index]
    with opened(port_of(proxy)) as sock:
        round_trip(sock)


def test_item_17_same_address_spelt_as_localhost_keeps_connections(toxi: ServerHandle, echo: EchoServer) -> None:
    port = port_of(create(echo))
    with opened(port) as sock:
        round_trip(sock)
        reply = request(toxi.port, "PATCH", "/proxies/a", {"listen": f"localhost:{port}"})
        assert reply.status == 200
        assert reply.json()["listen"] == f"127.0.0.1:{port}"  # type: ignore[index]
        assert round_trip(sock) < 1


def test_item_18_new_upstream_closes_connections(toxi: ServerHandle, echo: EchoServer) -> None:
    other = EchoServer()
    try:
        with opened(port_of(create(echo))) as sock:
            round_trip(sock)
            reply = request(toxi.port, "PATCH", "/proxies/a", {"upstream": other.address})
            assert reply.status == 200
            assert reply.json()["upstream"] == other.address  # type: ignore[index]
            expect_eof(sock)
    finally:
        other.close()


def test_item_19_delete_frees_the_port_and_second_delete_is_404(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    reply = request(toxi.port, "DELETE", "/proxies/a")
    assert (reply.status, reply.body) == (204, b"")
    assert is_refused(port_of(proxy))
    assert request(toxi.port, "DELETE", "/proxies/a").status == 404
    second = create(echo, "b")
    assert second.destroy() is True
    with pytest.raises(NotFound):
        second.destroy()


def test_item_20_upstream_down_accepts_then_closes(toxi: ServerHandle) -> None:
    dead = free_port()
    proxy = Toxiproxy().create(upstream=f"127.0.0.1:{dead}", name="down")
    with opened(port_of(proxy)) as sock:
        assert expect_eof(sock) < 0.5


def test_item_21_client_half_close_closes_everything(toxi: ServerHandle, eof_replier: EchoServer) -> None:
    host, port = eof_replier.address.split(":")
    with socket.create_connection((host, int(port))) as direct:  # the upstream does answer after FIN
        direct.sendall(b"hi")
        direct.shutdown(socket.SHUT_WR)
        assert recv_all(direct) == b"reply:hi"
    with opened(port_of(create(eof_replier))) as sock:
        sock.sendall(b"hi")
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock) == b""


# -- 22-30: toxic API ---------------------------------------------------------------------------


def test_item_22_add_latency_toxic(toxi: ServerHandle, echo: EchoServer) -> None:
    create(echo)
    reply = request(toxi.port, "POST", "/proxies/a/toxics", {"type": "latency", "attributes": {"latency": 100}})
    assert reply.status == 200
    assert reply.body == (b'{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream",'
                          b'"type":"latency","stream":"downstream","toxicity":1}')


def test_item_23_duplicate_toxic_name_is_409_in_either_stream(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "latency", "attributes": {"latency": 100}})
    reply = request(toxi.port, "POST", "/proxies/a/toxics", {"type": "latency", "attributes": {"latency": 100}})
    assert (reply.status, reply.body) == (409, b'{"error":"toxic already exists","status":409}\n')
    with pytest.raises(ProxyExists):  # toxiproxy-python maps every 409 to ProxyExists
        proxy.add_toxic(type="latency", stream="upstream", name="latency_downstream")


def test_item_24_invalid_type_or_stream_is_400(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    for body in ({"type": "bogus"}, {"attributes": {}}):
        reply = request(toxi.port, "POST", "/proxies/a/toxics", body)
        assert (reply.status, reply.body) == (400, b'{"error":"invalid toxic type","status":400}\n')
    for stream in ("sideways", ""):
        reply = request(toxi.port, "POST", "/proxies/a/toxics", {"type": "latency", "stream": stream})
        assert reply.status == 400
        assert b"stream was invalid, can be either upstream or downstream" in reply.body
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="bogus")


def test_item_25_wrong_attribute_type_is_400_and_not_created(toxi: ServerHandle, echo: EchoServer) -> None:
    create(echo)
    for attributes in ({"latency": "100"}, {"latency": 1.5}):
        reply = request(toxi.port, "POST", "/proxies/a/toxics", {"type": "latency", "attributes": attributes})
        assert reply.status == 400
        assert reply.json()["error"].startswith("bad request body: ")  # type: ignore[index]
    assert request(toxi.port, "GET", "/proxies/a/toxics").body == b"[]"


def test_item_26_stream_case_insensitive_and_noop_accepted(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    toxic = add_toxic(toxi, "a", {"type": "latency", "stream": "UpStream"})
    assert (toxic["stream"], toxic["name"]) == ("UpStream", "latency_UpStream")
    noop = add_toxic(toxi, "a", {"type": "noop"})
    assert noop == {"attributes": {}, "name": "noop_downstream", "type": "noop", "stream": "downstream",
                    "toxicity": 1}
    with opened(port_of(proxy)) as sock:
        round_trip(sock)


def test_item_27_toxics_list_upstream_first_in_creation_order(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    for name, stream in (("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream"), ("u2", "upstream")):
        proxy.add_toxic(type="latency", name=name, stream=stream)
    listing = request(toxi.port, "GET", "/proxies/a/toxics").json()
    assert isinstance(listing, list)
    assert [t["name"] for t in listing] == ["u1", "u2", "d1", "d2"]
    assert list(proxy.toxics()) == ["u1", "u2", "d1", "d2"]


def test_item_28_update_merges_attributes_and_keeps_toxicity(toxi: ServerHandle, echo: EchoServer) -> None:
    create(echo)
    add_toxic(toxi, "a", {"type": "latency", "toxicity": 0.2, "attributes": {"latency": 100, "jitter": 3}})
    reply = request(toxi.port, "PATCH", "/proxies/a/toxics/latency_downstream", {"attributes": {"jitter": 7}})
    assert reply.status == 200
    toxic = reply.json()
    assert isinstance(toxic, dict)
    assert (toxic["attributes"], toxic["toxicity"]) == ({"latency": 100, "jitter": 7}, 0.2)
    reply = request(toxi.port, "POST", "/proxies/a/toxics/latency_downstream", {"toxicity": 1})
    assert reply.json()["attributes"] == {"latency": 100, "jitter": 7}  # type: ignore[index]


def test_item_29_update_ignores_name_type_and_stream(toxi: ServerHandle, echo: EchoServer) -> None:
    create(echo)
    add_toxic(toxi, "a", {"type": "latency", "attributes": {"latency": 10}})
    reply = request(toxi.port, "PATCH", "/proxies/a/toxics/latency_downstream",
                    {"name": "renamed", "type": "bandwidth", "stream": "upstream", "attributes": {"latency": 20}})
    assert reply.json() == {"attributes": {"latency": 20, "jitter": 0}, "name": "latency_downstream",
                            "type": "latency", "stream": "downstream", "toxicity": 1}


def test_item_30_missing_toxic_is_404_and_delete_is_204(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    for method in ("GET", "PATCH", "DELETE"):
        reply = request(toxi.port, method, "/proxies/a/toxics/nope", {})
        assert (reply.status, reply.body) == (404, b'{"error":"toxic not found","status":404}\n')
    add_toxic(toxi, "a", {"type": "latency"})
    reply = request(toxi.port, "DELETE", "/proxies/a/toxics/latency_downstream")
    assert (reply.status, reply.body) == (204, b"")
    proxy.add_toxic(type="latency")
    assert proxy.destroy_toxic("latency_downstream") is True
    with pytest.raises(NotFound):
        proxy.destroy_toxic("latency_downstream")


# -- 31-35: latency -----------------------------------------------------------------------------


def assert_added(samples: list[float], baseline: float, expected: float, spread: float = 0.0) -> None:
    """No sample faster than the added delay allows; the median within slack of baseline + delay."""
    assert min(samples) >= expected - spread - EARLY_S, samples
    assert statistics.median(samples) - baseline <= expected + spread + SLACK_S, (samples, baseline)


def test_item_31_latency_applies_to_open_connection_in_both_streams(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        baseline = median_rtt(sock)
        add_toxic(toxi, "a", {"type": "latency", "attributes": {"latency": 80}})
        assert_added([round_trip(sock) for _ in range(3)], baseline, 0.080)
        add_toxic(toxi, "a", {"type": "latency", "stream": "upstream", "attributes": {"latency": 40}})
        assert_added([round_trip(sock) for _ in range(3)], baseline, 0.120)


def test_item_32_two_latencies_in_one_stream_add_up(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        baseline = median_rtt(sock)
        add_toxic(toxi, "a", {"type": "latency", "name": "one", "attributes": {"latency": 50}})
        add_toxic(toxi, "a", {"type": "latency", "name": "two", "attributes": {"latency": 70}})
        assert_added([round_trip(sock) for _ in range(3)], baseline, 0.120)


def test_item_33_latency_does_not_accumulate_over_chunks(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        baseline = median_rtt(sock)
        add_toxic(toxi, "a", {"type": "latency", "attributes": {"latency": 100}})
        arrived: list[float] = []
        received = bytearray()

        def read() -> None:  # timestamps each 10-byte message as it completes
            while len(received) < 50:
                received.extend(sock.recv(50 - len(received)))
                arrived.extend([time.perf_counter()] * (len(received) // 10 - len(arrived)))

        reader = threading.Thread(target=read)
        reader.start()
        sent: list[float] = []
        for index in range(5):
            sent.append(time.perf_counter())
            sock.sendall(b"%010d" % index)
            time.sleep(0.02)  # the point of the test: writes spaced 20 ms apart
        reader.join(5)
        assert bytes(received) == b"".join(b"%010d" % i for i in range(5))
        assert_added([a - s for a, s in zip(arrived, sent, strict=True)], baseline, 0.100)


def test_item_34_jitter_stays_within_bounds(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        baseline = median_rtt(sock)
        add_toxic(toxi, "a", {"type": "latency", "attributes": {"latency": 60, "jitter": 40}})
        samples = [round_trip(sock) for _ in range(15)]
        assert min(samples) >= 0.020 - EARLY_S, samples  # never below L - J
        assert sorted(samples)[-3] - baseline <= 0.100 + SLACK_S, samples  # below L + J (two stalls tolerated)
        assert max(samples) - min(samples) > 0.020, samples  # it does vary


def test_item_35_delete_restores_baseline_without_losing_bytes(toxi: ServerHandle, echo: EchoServer) -> None:
    messages = [b"%08d" % i for i in range(200)]
    with opened(port_of(create(echo))) as sock:
        baseline = median_rtt(sock)
        add_toxic(toxi, "a", {"type": "latency", "attributes": {"latency": 100}})
        for message in messages[:100]:
            sock.sendall(message)
        assert request(toxi.port, "DELETE", "/proxies/a/toxics/latency_downstream").status == 204
        for message in messages[100:]:
            sock.sendall(message)
        assert recv_exactly(sock, 1600) == b"".join(messages)
        assert median_rtt(sock) - baseline < SLACK_S


# -- 36-46: the other toxics --------------------------------------------------------------------


def test_item_36_bandwidth_paces_bytes(toxi: ServerHandle, echo: EchoServer) -> None:
    payload = bytes(30_000)
    with opened(port_of(create(echo))) as sock:
        baseline = median_rtt(sock)
        add_toxic(toxi, "a", {"type": "bandwidth", "attributes": {"rate": 100}})  # 100 KB/s -> 0.3 s
        start = time.perf_counter()
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload
        elapsed = time.perf_counter() - start - baseline
    assert 0.3 - 0.03 <= elapsed <= 0.3 + SLACK_ONCE_S


def test_item_37_bandwidth_zero_blocks_until_removed(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        round_trip(sock)
        add_toxic(toxi, "a", {"type": "bandwidth", "attributes": {"rate": 0}})
        sock.sendall(b"stuck")
        expect_silence(sock, 0.3)
        request(toxi.port, "DELETE", "/proxies/a/toxics/bandwidth_downstream")
        sock.settimeout(2)
        assert recv_exactly(sock, 5) == b"stuck"


def test_item_38_timeout_drops_data_then_closes_after_inactivity(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "timeout", "stream": "upstream", "attributes": {"timeout": 200}})
    with opened(port_of(proxy)) as idle:
        assert 0.200 - EARLY_S <= expect_eof(idle) <= 0.200 + SLACK_ONCE_S  # counted from setup when idle
    with opened(port_of(proxy)) as busy:
        for _ in range(3):
            busy.sendall(b"x")  # dropped; each one restarts the timer
            last = time.perf_counter()
            time.sleep(0.05)
        busy.settimeout(2)
        assert busy.recv(10) == b""  # no echo ever came back: the data was dropped
        assert 0.200 - EARLY_S <= time.perf_counter() - last <= 0.200 + SLACK_ONCE_S


def test_item_39_timeout_zero_holds_and_removal_closes_both_sides(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        round_trip(sock)
        add_toxic(toxi, "a", {"type": "timeout", "attributes": {"timeout": 0}})
        sock.sendall(b"lost")
        expect_silence(sock, 0.2)
        request(toxi.port, "DELETE", "/proxies/a/toxics/timeout_downstream")
        expect_eof(sock)
        wait_until(echo.ended[0].is_set)  # the upstream saw its end too


def test_item_40_slow_close_delays_the_close(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "slow_close", "stream": "upstream", "attributes": {"delay": 200}})
    with opened(port_of(proxy)) as sock:
        round_trip(sock)
        sock.shutdown(socket.SHUT_WR)
        assert 0.200 - EARLY_S <= expect_eof(sock) <= 0.200 + SLACK_ONCE_S


def test_item_41_reset_peer_resets_after_timeout(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 100}})
    with opened(port_of(proxy)) as sock:
        sock.sendall(b"x")
        start = time.perf_counter()
        sock.settimeout(2)
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
        assert 0.100 - EARLY_S <= time.perf_counter() - start <= 0.100 + SLACK_ONCE_S


def test_item_42_reset_peer_on_older_connection_closes_with_fin(toxi: ServerHandle, echo: EchoServer) -> None:
    with opened(port_of(create(echo))) as sock:
        round_trip(sock)
        add_toxic(toxi, "a", {"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 20}})
        sock.sendall(b"x")
        expect_eof(sock)


def test_item_43_reset_peer_needs_data_in_its_stream(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 20}})
    with opened(port_of(proxy)) as sock:
        expect_silence(sock, 0.25)


def test_item_44_limit_data_passes_exactly_b_bytes(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "limit_data", "attributes": {"bytes": 10}})
    with opened(port_of(proxy)) as sock:
        sock.sendall(b"0123456")
        assert recv_exactly(sock, 7) == b"0123456"
        sock.sendall(b"789abcdef")
        assert recv_all(sock) == b"789"


def test_item_45_limit_data_zero_closes_on_first_write(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "limit_data", "stream": "upstream", "attributes": {"bytes": 0}})
    with opened(port_of(proxy)) as sock:
        expect_silence(sock, 0.1)  # not closed at connect time
        sock.sendall(b"hello")
        sock.settimeout(2)
        assert recv_all(sock) == b""
    wait_until(echo.ended[0].is_set)


def test_item_46_slicer_splits_over_time_and_keeps_bytes(toxi: ServerHandle, echo: EchoServer) -> None:
    payload = bytes(range(100))
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "slicer", "attributes": {"average_size": 10, "size_variation": 5,
                                                             "delay": 20_000}})
    with opened(port_of(proxy)) as sock:
        start = time.perf_counter()
        sock.sendall(payload)
        reads: list[bytes] = []
        while sum(map(len, reads)) < len(payload):
            reads.append(sock.recv(1024))
        elapsed = time.perf_counter() - start
    assert b"".join(reads) == payload
    assert len(reads) >= 4, [len(r) for r in reads]
    assert elapsed >= 0.1


# -- 47-50: toxicity, persistence, reset ------------------------------------------------------


def test_item_47_toxicity_is_decided_per_connection(toxi: ServerHandle, echo: EchoServer) -> None:
    latency = 0.100
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 100}})
    affected = 0
    for _ in range(12):
        with opened(port_of(proxy)) as sock:
            # An affected round trip is never faster than the latency; an unaffected one
            # would need a 98 ms scheduler stall to look affected.
            delayed = [round_trip(sock) >= latency - EARLY_S for _ in range(3)]
        assert len(set(delayed)) == 1, delayed  # consistent within the connection
        affected += delayed[0]
    assert 2 <= affected <= 10, affected  # about half (the draws are seeded: this count is fixed)


def test_item_48_toxicity_zero_reset_peer_still_forces_rst(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    add_toxic(toxi, "a", {"type": "reset_peer", "toxicity": 0, "attributes": {"timeout": 0}})
    with opened(port_of(proxy)) as sock:
        for _ in range(3):
            round_trip(sock)  # never reset
        proxy.disable()
        sock.settimeout(2)
        with pytest.raises(ConnectionResetError):
            sock.recv(10)


def test_item_49_toxics_survive_disable_and_enable(toxi: ServerHandle, echo: EchoServer) -> None:
    proxy = create(echo)
    proxy.add_toxic(type="latency", attributes={"latency": 60})
    proxy.disable()
    assert list(proxy.toxics()) == ["latency_downstream"]
    proxy.enable()
    assert proxy.get_toxic("latency_downstream") is not None
    with opened(port_of(proxy)) as sock:
        assert round_trip(sock) >= 0.060 - EARLY_S


def test_item_50_reset_enables_all_and_removes_toxics(toxi: ServerHandle, echo: EchoServer) -> None:
    tp = Toxiproxy()
    live = create(echo)
    dormant = tp.create(upstream=echo.address, name="b", enabled=False)
    with opened(port_of(live)) as sock:
        baseline = median_rtt(sock)
        live.add_toxic(type="latency", attributes={"latency": 100})
        live.add_toxic(type="bandwidth", stream="upstream", attributes={"rate": 1000})
        assert round_trip(sock) >= 0.1 - EARLY_S
        assert tp.reset() is True
        assert median_rtt(sock) - baseline < SLACK_S
    assert request(toxi.port, "GET", "/proxies/a/toxics").body == b"[]"
    proxies = tp.proxies()
    assert proxies["b"].enabled is True
    with opened(port_of(proxies["b"])) as sock:
        round_trip(sock)
    assert dormant.name == "b"


# -- 51-57: populate, metrics, routing -----------------------------------------------------------


def test_item_51_populate_creates_in_order(toxi: ServerHandle, echo: EchoServer) -> None:
    entries = [{"name": "z", "upstream": echo.address, "listen": "127.0.0.1:0"},
               {"name": "y", "upstream": echo.address, "listen": "127.0.0.1:0", "enabled": False},
               {"name": "x", "upstream": echo.address, "listen": "127.0.0.1:0"}]
    reply = request(toxi.port, "POST", "/populate", entries)
    assert (reply.status, reply.content_type) == (201, "application/json")
    body = reply.json()
    assert isinstance(body, dict)
    assert list(body) == ["proxies"]
    assert [p["name"] for p in body["proxies"]] == ["z", "y", "x"]
    z, y, _x = body["proxies"]
    assert (z["enabled"], y["enabled"], y["listen"]) == (True, False, "127.0.0.1:0")
    with opened(int(z["listen"].split(":")[1])) as sock:
        round_trip(sock)


def test_item_52_populate_keeps_identical_and_replaces_differing(toxi: ServerHandle, echo: EchoServer) -> None:
    same, changed = create(echo, "same"), create(echo, "changed")
    same.add_toxic(type="latency", attributes={"latency": 5})
    changed.add_toxic(type="latency", attributes={"latency": 5})
    same.disable()
    port = free_port()
    reply = request(toxi.port, "POST", "/populate", [
        {"name": "same", "upstream": echo.address, "listen": same.listen.replace("127.0.0.1", "localhost"),
         "enabled": True},
        {"name": "changed", "upstream": echo.address, "listen": f"127.0.0.1:{port}"}])
    assert reply.status == 201
    kept, replaced = reply.json()["proxies"]  # type: ignore[index]
    assert (kept["enabled"], len(kept["toxics"])) == (False, 1)
    assert (replaced["listen"], replaced["toxics"]) == (f"127.0.0.1:{port}", [])


def test_item_53_populate_validates_everything_first(toxi: ServerHandle, echo: EchoServer) -> None:
    reply = request(toxi.port, "POST", "/populate", [{"name": "a", "upstream": echo.address},
                                                      {"upstream": echo.address}])
    assert reply.status == 400
    assert reply.json() == {"error": "missing required field: name at proxy 2", "status": 400, "proxies": None}
    assert request(toxi.port, "GET", "/proxies").body == b"{}"


def test_item_54_populate_stops_at_a_bad_listen(toxi: ServerHandle, echo: EchoServer) -> None:
    reply = request(toxi.port, "POST", "/populate", [
        {"name": "a", "upstream": echo.address, "listen": "127.0.0.1:0"},
        {"name": "b", "upstream": echo.address, "listen": "local373"},
        {"name": "c", "upstream": echo.address, "listen": "127.0.0.1:0"}])
    assert (reply.status, reply.content_type) == (500, "application/json")
    body = reply.json()
    assert isinstance(body, dict)
    assert list(body) == ["error", "status", "proxies"]
    assert body["error"] == "listen tcp: address local373: missing port in address"
    assert [p["name"] for p in body["proxies"]] == ["a"]
    assert set(Toxiproxy().proxies()) == {"a"}


def test_item_55_populate_empty_and_non_array(toxi: ServerHandle) -> None:
    reply = request(toxi.port, "POST", "/populate", [])
    assert (reply.status, reply.body) == (201, b'{"proxies":null}')
    reply = request(toxi.port, "POST", "/populate", {"name": "a"})
    assert reply.status == 400
    assert reply.json()["error"].startswith("bad request body: json: cannot unmarshal object")  # type: ignore[index]


def test_item_56_metrics_only_with_the_flag(toxi: ServerHandle, echo: EchoServer) -> None:
    assert request(toxi.port, "GET", "/metrics").status == 404
    with run_in_thread(seed=SEED, proxy_metrics=True) as metered:
        reply = request(metered.port, "POST", "/proxies", {"name": "zone", "upstream": echo.address,
                                                           "listen": "127.0.0.1:0"})
        listen = reply.json()["listen"]  # type: ignore[index]
        with opened(int(listen.split(":")[1])) as sock:
            round_trip(sock, b"12345")
        expected = (f'toxiproxy_proxy_sent_bytes_total{{direction="downstream",listener="{listen}",'
                    f'proxy="zone",upstream="{echo.address}"}} 5')

        def exported() -> bool:
            return expected in request(metered.port, "GET", "/metrics").body.decode()

        wait_until(exported)
        assert request(metered.port, "GET", "/metrics").content_type.startswith("text/plain; version=0.0.4")


def test_item_57_unknown_paths_and_methods(toxi: ServerHandle) -> None:
    for path in ("/nope", "/proxies/", "/version/", "/proxies/a/toxics/"):
        reply = request(toxi.port, "GET", path)
        assert (reply.status, reply.body) == (404, b"404 page not found\n"), path
    for method, path in (("PUT", "/proxies/a"), ("DELETE", "/proxies"), ("GET", "/reset"), ("HEAD", "/version"),
                         ("PATCH", "/proxies/a/toxics")):
        reply = request(toxi.port, method, path)
        assert (reply.status, reply.body) == (405, b""), (method, path)
