"""The toxic chain without sockets: a link between two fake transports on a real event loop.

What must hold whatever the API does to live links (Toxiproxy's TestNoDataDropped and
TestToxicAddRemove): adding, updating and removing toxics while bytes flow never
loses, duplicates or reorders a byte, and end of stream still arrives last.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from load.toxiproxy.link import HIGH_WATER, MAX_CHUNK, Direction, Link
from load.toxiproxy.toxic_collection import ToxicEntry
from load.toxiproxy.toxics import REGISTRY, Toxic


class FakeTransport(asyncio.Transport):
    """Records writes and close; counts pause/resume of reading."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def entry(name: str, type_name: str, toxicity: float = 1.0, **attributes: int) -> ToxicEntry:
    toxic: Toxic = REGISTRY[type_name]().merged(attributes)
    return ToxicEntry(name, type_name, "downstream", Direction.DOWNSTREAM, toxicity, toxic)


def make_link() -> tuple[Link, FakeTransport, FakeTransport]:
    source, dest = FakeTransport(), FakeTransport()
    return Link(Direction.DOWNSTREAM, source, dest, "test"), source, dest


async def until(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.001)


_CHURN_TYPES = [("latency", {"latency": 3, "jitter": 2}), ("slicer", {"average_size": 7, "size_variation": 3}),
                ("bandwidth", {"rate": 2000}), ("noop", {}), ("slow_close", {"delay": 1}),
                ("latency", {"latency": 0})]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_churning_toxics_never_lose_or_reorder_bytes(seed: int) -> None:
    async def scenario() -> None:
        rng = random.Random(seed)
        link, _source, dest = make_link()
        expected = bytearray()
        live: list[ToxicEntry] = []
        for step in range(400):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 50)))
            link.feed(data)
            expected += data
            action = rng.random()
            if action < 0.15:
                type_name, attributes = rng.choice(_CHURN_TYPES)
                live.append(entry(f"t{step}", type_name, toxicity=rng.choice([0.0, 0.5, 1.0]), **attributes))
                link.append(live[-1])
            elif action < 0.25 and live:
                link.remove(live.pop(rng.randrange(len(live))))
            elif action < 0.32 and live:
                link.restart(rng.choice(live))  # an update: interrupt and start again
            if step % 50 == 0:
                await asyncio.sleep(0.002)
        link.end()
        await until(lambda: dest.closed)
        assert bytes(dest.written) == bytes(expected)
        link.teardown()

    asyncio.run(scenario())


def test_latency_counts_from_arrival_so_chunks_do_not_queue() -> None:
    async def scenario() -> None:
        link, _source, dest = make_link()
        link.append(entry("l", "latency", latency=50))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(20):
            link.feed(b"%02d" % index)
        await until(lambda: len(dest.written) == 40)
        assert loop.time() - start < 0.050 + 0.040  # 20 chunks, not 20 x 50 ms
        link.teardown()

    asyncio.run(scenario())


def test_removing_a_stalled_toxic_forwards_what_it_held_in_order() -> None:
    async def scenario() -> None:
        link, _source, dest = make_link()
        stalled = entry("b", "bandwidth", rate=0)
        link.append(entry("l", "latency", latency=1000))
        link.append(stalled)
        link.feed(b"first")
        link.remove(link.stages[0].entry)  # the latency: hands its chunk to the bandwidth stage
        link.feed(b"second")
        assert dest.written == b""
        link.remove(stalled)
        assert dest.written == b"firstsecond"
        link.teardown()

    asyncio.run(scenario())


def test_timeout_removal_closes_and_limit_data_truncates() -> None:
    async def scenario() -> None:
        link, _source, dest = make_link()
        timeout = entry("t", "timeout", timeout=0)
        link.append(timeout)
        link.feed(b"dropped")
        link.remove(timeout)
        assert (dest.written, dest.closed) == (b"", True)
        other, _source2, dest2 = make_link()
        other.append(entry("cap", "limit_data", bytes=4))
        other.feed(b"abc")
        other.feed(b"defg")
        assert (dest2.written, dest2.closed) == (b"abcd", True)
        link.teardown()
        other.teardown()

    asyncio.run(scenario())


def test_a_stalled_link_stops_reading_its_source() -> None:
    async def scenario() -> None:
        link, source, dest = make_link()
        stalled = entry("b", "bandwidth", rate=0)
        link.append(stalled)
        while source.reading:
            link.feed(bytes(MAX_CHUNK))
        assert link.queued_bytes > HIGH_WATER
        link.remove(stalled)  # everything flows: reading resumes
        assert source.reading
        assert len(dest.written) == link.received
        link.teardown()

    asyncio.run(scenario())


def test_slicer_cuts_are_bounded_and_cover_the_chunk() -> None:
    async def scenario() -> None:
        link, _source, dest = make_link()
        link.append(entry("s", "slicer", average_size=1024, size_variation=512))
        stage = link.stages[0]
        sizes = stage.entry.toxic.cuts(480_000, stage)  # type: ignore[attr-defined]
        assert sum(sizes) == 480_000
        assert 240 <= len(sizes) <= 720  # Toxiproxy's own bounds (TestSlicerToxic)
        assert max(sizes) <= 1024 + 512
        link.feed(bytes(range(256)) * 100)
        await until(lambda: len(dest.written) == 25_600)
        assert bytes(dest.written) == bytes(range(256)) * 100
        link.teardown()

    asyncio.run(scenario())


def test_same_seed_key_same_draws() -> None:
    async def scenario() -> list[bool]:
        affected = []
        for connection in range(20):
            link = Link(Direction.DOWNSTREAM, FakeTransport(), FakeTransport(), f"7/zone/{connection}/downstream")
            link.append(entry("maybe", "timeout", toxicity=0.5, timeout=0))
            link.feed(b"x")
            affected.append(link.dest.written == b"")  # type: ignore[attr-defined]
            link.teardown()
        return affected

    first, second = asyncio.run(scenario()), asyncio.run(scenario())
    assert first == second
    assert 3 <= sum(first) <= 17


def test_limit_data_count_survives_an_update() -> None:
    async def scenario() -> None:
        link, _source, dest = make_link()
        limit = entry("cap", "limit_data", bytes=10)
        link.append(limit)
        link.feed(b"123456")
        limit.toxic = limit.toxic.merged({"bytes": 8})  # what an API update does, then restarts the stage
        link.restart(limit)
        link.feed(b"789")
        assert (bytes(dest.written), dest.closed) == (b"12345678", True)
        link.teardown()

    asyncio.run(scenario())
