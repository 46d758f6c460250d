"""``scanrush whatif``: remediations alone and together, ranked, paired; the twin agrees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanrush.cli import run
from scanrush.results import compare_runs, read_result

SMOKE = Path(__file__).parents[2] / "scenarios" / "smoke.yaml"

# A hand-written twin of smoke made the way mall_promo_fixed.yaml is made from mall_promo.yaml.
SMOKE_FIXED = f"""\
extends: {SMOKE}
name: smoke
merchants:
  boutique: {{qualified: 100%, huabei_enabled: 100%, personal_account: 0%}}
networks:
  mall-wifi: {{loss: 0.3%, outages: []}}
terminals:
  firmware:
    - {{version: "2.8", share: 0%}}
    - {{version: "3.2", share: 100%}}
gateway:
  workers: 8
  risk: {{promotion_registered: true}}
"""


def test_whatif_ranks_remediations_and_agrees_with_a_hand_written_twin(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "whatif.json"
    assert run(["whatif", str(SMOKE), "-n", "3", "-j", "1", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    rows = document["remediations"]
    causes = [r["cause"] for r in rows]
    assert sorted(causes) == ["all", "capacity", "firmware", "merchant", "network", "risk"]
    assert causes[-1] == "all"
    gains = [r["gain"]["estimate"] for r in rows[:-1]]
    assert gains == sorted(gains, reverse=True)
    assert rows[0]["cause"] == "merchant"  # smoke's largest cause
    assert rows[-1]["gain"]["low"] > 0.1  # everything together: clearly better
    assert any(note.startswith("credit: shopper-side") for note in document["notes"])
    assert (tmp_path / "whatif" / "tornado.png").is_file()
    assert "Ranked by gain" in capsys.readouterr().out

    # The derived "all together" and the hand-written twin: the same success rate, replication by replication.
    twin = tmp_path / "smoke_fixed.yaml"
    twin.write_text(SMOKE_FIXED)
    derived = tmp_path / "derived.json"
    overrides = [arg for o in rows[-1]["overrides"] for arg in ("--set", o)]
    assert run(["sim", str(SMOKE), *overrides, "-n", "3", "-j", "1", "-o", str(derived)]) == 0
    assert run(["sim", str(twin), "-n", "3", "-j", "1", "-o", str(tmp_path / "twin.json")]) == 0
    paired = compare_runs(read_result(derived), read_result(tmp_path / "twin.json"))
    assert paired.differences["huabei_success_rate"].estimate == pytest.approx(0.0, abs=1e-12)
