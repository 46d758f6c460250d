"""Remediations derived from a scenario, checked against the hand-written twin of the flagship."""

from __future__ import annotations

from pathlib import Path

from scanrush.capacity.whatif import CAPPED_LOSS, all_together, remediations
from scanrush.scenario.loader import load_scenario

SCENARIOS = Path(__file__).parents[2] / "scenarios"


def test_the_flagships_remediations_match_its_hand_written_twin() -> None:
    flagship = load_scenario(SCENARIOS / "mall_promo.yaml")
    found, notes = remediations(flagship)
    assert [r.cause for r in found] == ["firmware", "merchant", "network", "risk", "capacity"]
    assert any(note.startswith("credit: shopper-side") for note in notes)
    derived = load_scenario(SCENARIOS / "mall_promo.yaml", list(all_together(found).overrides))
    twin = load_scenario(SCENARIOS / "mall_promo_fixed.yaml")
    assert derived.terminals == twin.terminals
    assert derived.merchants == twin.merchants
    assert derived.gateway == twin.gateway
    # Networks: the documented differences only (the twin also lowers RTT and keeps mild congestion).
    wifi, twin_wifi = derived.networks["mall-wifi"], twin.networks["mall-wifi"]
    assert wifi.outages == twin_wifi.outages == ()
    assert wifi.loss == twin_wifi.loss == CAPPED_LOSS
    assert wifi.congestion is None
    assert derived.networks["wired"] == twin.networks["wired"]


def test_firmware_upgrade_when_no_version_reads_every_code() -> None:
    smoke = load_scenario(SCENARIOS / "smoke.yaml", ["terminals.firmware.3.2.accepts=[{prefixes: 28, lengths: 18}]"])
    firmware = next(r for r in remediations(smoke)[0] if r.cause == "firmware")
    fixed = load_scenario(SCENARIOS / "smoke.yaml", list(firmware.overrides))
    assert [(f.version, f.share) for f in fixed.terminals.firmware] == [("upgrade", 1.0)]


def test_nothing_to_remediate_is_said() -> None:
    smoke = load_scenario(SCENARIOS / "smoke.yaml", ["gateway.risk.surges=[]", "gateway.workers=8"])
    found, notes = remediations(smoke, workers=8)
    assert "risk" not in [r.cause for r in found]
    assert "capacity" not in [r.cause for r in found]
    assert "risk: nothing to remediate in this scenario" in notes
