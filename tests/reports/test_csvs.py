"""CSV of the per-minute series and per-replication metrics."""

from __future__ import annotations

import csv
import io

import pytest

from reports.context import build_context
from reports.csvs import replications_csv, series_csv
from scanrush.results import RunResult

from .conftest import MINUTES


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_series_csv_has_a_row_per_minute_and_live_columns_in_the_window(checked: RunResult) -> None:
    table = rows(series_csv(build_context(checked)))
    assert [int(r["minute"]) for r in table] == list(range(MINUTES))
    assert float(table[0]["sim_huabei_checkouts"]) == 10.0
    assert float(table[0]["sim_huabei_success_rate"]) == pytest.approx(8.5 / 10)  # mean of 9 and 8 paid
    assert float(table[1]["sim_gateway_utilisation"]) == pytest.approx(120 / 240)
    live = [r["live_huabei_checkouts"] for r in table]
    assert live[:3] == ["", "", ""]
    assert live[3:6] == ["10.0"] * 3
    assert live[6:] == [""] * (MINUTES - 6)


def test_replications_csv_has_every_metric_per_replication_and_the_live_run(checked: RunResult) -> None:
    table = rows(replications_csv(build_context(checked)))
    assert [(r["evidence"], r["replication"]) for r in table] == [("sim", "0"), ("sim", "1"), ("sim", "2"),
                                                                  ("sim", "3"), ("live", "0")]
    assert table[1]["seed"] == "42 1"
    assert float(table[0]["huabei_success_rate"]) == pytest.approx(40 / 45)
    assert float(table[0]["revenue_lost"]) == 1000.0
    assert table[4]["mechanism"] == "live"
