"""Fault windows read from the stored scenario."""

from __future__ import annotations

from reports.faults import fault_windows

from .conftest import SCENARIO


def test_every_kind_of_fault_window_with_its_zone_and_label() -> None:
    windows = fault_windows(SCENARIO)
    assert [(w.kind, w.start, w.end) for w in windows] == [
        ("risk", 60.0, 180.0), ("outage", 240.0, 300.0), ("brownout", 420.0, 540.0)]
    assert windows[1].label == "outage: boutiques (mall-wifi)"
    assert "×3" in windows[2].label
    assert "20% errors" in windows[2].label
    assert "5% rejected" in windows[0].label


def test_missing_or_malformed_sections_give_no_windows() -> None:
    assert fault_windows({}) == []
    assert fault_windows({"networks": {"x": {"outages": [{"at": "soon"}]}}, "gateway": []}) == []
