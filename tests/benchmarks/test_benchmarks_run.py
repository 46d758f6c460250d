"""The throughput benchmark still runs end to end (a smoke test: no timing is asserted).

Timings on a shared CI machine say little; what must not rot is the script
itself, so this runs its ``--quick`` mode in a subprocess, as a person would,
and checks that every report line, the ratio above all, comes out.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "sim_throughput.py"


def test_quick_benchmark_prints_its_report() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^ratio: full model costs \d+\.\d+x bare SimPy per shopper", out, re.MULTILINE), out
    full_model = r"^full model .*: [\d,]+ shoppers in \d+\.\d+ s( CPU)?.* = [\d,]+ shoppers/s"
    assert re.search(full_model, out, re.MULTILINE), out
    assert re.search(r"^bare SimPy M/M/10 .* = [\d,]+ customers/s", out, re.MULTILINE), out
    assert re.search(r"^flagship replication: \d+\.\d+ s", out, re.MULTILINE), out
    assert re.search(r"^peak memory: full model \d+ MB", out, re.MULTILINE), out
    assert re.search(r"^scaling: 4 replications, .* speedup \d+\.\d+x$", out, re.MULTILINE), out
