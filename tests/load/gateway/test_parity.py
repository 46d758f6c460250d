"""One world, one decision: the stub meets the simulator's shoppers and answers as the simulator's gateway."""

from __future__ import annotations

import pytest
from harness import Harness, StubFactory, scenario

from load.world import LIVE_REPLICATION, LiveWorld
from scanrush.domain.gateway import PayRequest
from scanrush.domain.platform import GatewayCore
from scanrush.domain.replies import SUCCESS, Reply
from scanrush.domain.shoppers import Shopper
from scanrush.domain.terminal import Op
from scanrush.domain.world import build_world
from sim.model import Promotion

BROWNOUT = "gateway.brownouts=[{at: 10m, for: 10m, service_factor: 1, error_rate: 40%}]"
RANDOM_SERVICE = "gateway.service_time={lognormal: {median: 50ms, sigma: 0.5}}"


def test_live_shoppers_are_the_simulated_replications_shoppers() -> None:
    world_scenario = scenario()
    promo = Promotion(world_scenario, build_world(world_scenario), LIVE_REPLICATION)
    live = LiveWorld(world_scenario)
    for serial in range(300):
        simulated: Shopper = next(promo._shoppers)  # the simulator's own stream, drawn as it draws it
        shopper = live.shopper(serial)
        assert shopper is not None
        assert {name: getattr(shopper, name) for name in Shopper.__slots__} == {
            name: getattr(simulated, name) for name in Shopper.__slots__}


def test_live_gateway_streams_are_the_simulated_gateways() -> None:
    world_scenario = scenario(RANDOM_SERVICE)
    promo = Promotion(world_scenario, build_world(world_scenario), LIVE_REPLICATION)
    streams = LiveWorld(world_scenario).streams()
    assert [streams.service_time() for _ in range(50)] == [promo.gateway._service_time() for _ in range(50)]
    assert [streams.uniform() for _ in range(50)] == [promo.gateway.core._uniform() for _ in range(50)]


def observed(reply: Reply) -> tuple[object, ...]:
    """What a terminal can see of a reply (a 10003 does not disclose the channel yet)."""
    channel = reply.fund_channel if reply.code == SUCCESS else None
    return reply.code, reply.sub_code, reply.trade_status, reply.action, reply.retry_flag, reply.trade_no, channel


@pytest.mark.live
def test_stub_and_simulator_core_give_the_same_answers(make_stub: StubFactory) -> None:
    overrides = (BROWNOUT, "merchants.good.rate_limit=2/s")
    stub: Harness = make_stub(*overrides)
    world_scenario = scenario(*overrides)
    live = LiveWorld(world_scenario)
    core = GatewayCore(world_scenario, live.world, live.streams().uniform)
    shoppers = stub.shoppers(count=40)
    steps: list[tuple[float, Op, str, int, str, float]] = []
    for index, shopper in enumerate(shoppers):
        at = 600.0 + index * 0.2 if index < 30 else 45 * 60.0 + index  # the last ten in the risk surge
        amount = (88.0, 600.0, 7000.0, 300.0)[index % 4]
        steps.append((at, Op.PAY, f"T{index}", shopper.serial, str(index % 4), amount))
        if index % 3 == 0:
            steps.append((at + 40.0, Op.QUERY, f"T{index}", shopper.serial, "", 0.0))
        if index % 5 == 0:
            steps.append((at + 41.0, Op.CANCEL, f"T{index}", shopper.serial, "", 0.0))
    steps.sort(key=lambda step: step[0])
    answers = []
    for at, op, out_trade_no, serial, store, amount in steps:
        shopper = live.shopper(serial)
        assert shopper is not None
        stub.at(at)
        if op is Op.PAY:
            request = PayRequest(out_trade_no, shopper.code(0), amount, int(store), -1)
            live_reply = stub.pay(out_trade_no, shopper.code(0), amount, store_id=store)
        else:
            request = PayRequest(out_trade_no, "", 0.0, 0, -1)
            live_reply = stub.query(out_trade_no) if op is Op.QUERY else stub.cancel(out_trade_no)
        sim_reply = core.handle(op, request, shopper, shopper.u_risk, at)
        assert observed(live_reply) == observed(sim_reply), (op, out_trade_no, at)
        answers.append(sim_reply.key)
    assert {"10000", "10003", "20000:aop.ACQ.SYSTEM_ERROR", "40004:ACQ.PAYMENT_REQUEST_HAS_RISK",
            "40004:ACQ.ACCESS_FORBIDDEN"} <= set(answers)  # the comparison covered the interesting paths


def test_the_stub_recognises_every_shopper_the_terminals_bring() -> None:
    from load.engine.plan import LivePlan
    from scanrush.window import default_window

    world_scenario = scenario()
    live = LiveWorld(world_scenario)
    plan = LivePlan(world_scenario, live.world, default_window(world_scenario))
    brought = [arrival.shopper for arrival in plan.arrivals()]
    assert brought
    for shopper in brought:
        for attempt in (0, 1, 15):
            owner = live.owner_of(shopper.code(attempt))
            assert owner is not None
            assert (owner.shopper.serial, owner.attempt, owner.shopper.u_risk) == (
                shopper.serial, attempt, shopper.u_risk)
