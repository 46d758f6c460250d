"""The HTML report in a real browser: headless Chromium, no network, every chart decoded.

CI needs the Debian package ``chromium`` (``apt-get install -y chromium``); without it these tests
are skipped, saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from reports.build import write_report
from scanrush.results import RunResult

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                                    "(Debian: apt-get install -y chromium)")]

OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # any request would fail
           "--host-resolver-rules=MAP * ~NOTFOUND"]
PROBE = """<script>addEventListener("load", () => {
  const imgs = [...document.images].map(i => ({chart: i.dataset.chart, ok: i.complete && i.naturalWidth > 0,
                                               w: i.naturalWidth}));
  const pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(imgs);
  document.body.append(pre);
});</script>"""


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *OFFLINE, f"--user-data-dir={cwd / 'profile'}", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def report(tmp_path: Path, checked: RunResult) -> Path:
    write_report(checked, tmp_path / "out", ["html"])
    return tmp_path / "out" / "report.html"


def test_report_renders_offline_with_every_chart_decoded(tmp_path: Path, report: Path) -> None:
    # A copy whose policy also allows one inline script: it reports each image's decoded size.
    # The report's own policy (no scripts, nothing but data: images) is what keeps it offline.
    probed = tmp_path / "probed.html"
    text = report.read_text(encoding="utf-8")
    probed.write_text(text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
                      .replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", probed.as_uri(), cwd=tmp_path).stdout
    assert 'class="verdict"' in dom
    assert "huabei_success_rate &gt;= 97%" in dom
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: the page never finished loading"
    images = json.loads(found.group(1).replace("&quot;", '"'))
    assert {i["chart"] for i in images} == {"pareto", "timeline", "checkout_time_cdf", "payment_latency_cdf",
                                            "gateway_utilisation", "money", "sim_vs_live"}
    assert all(i["ok"] and i["w"] >= 800 for i in images), images


def test_screenshot_of_the_report_is_not_blank(tmp_path: Path, report: Path) -> None:
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,2400", report.as_uri(), cwd=tmp_path)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text, tables and charts, not one flat colour
