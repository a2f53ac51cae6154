"""Run every benchmark, print one table, write bench/results.json.

Timings are compared with a baseline measured in the same run (the machines are noisy),
so budgets are ratios where possible. BENCH_ONLY (e.g. "capacity,scale") runs only the
named benchmarks.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import capacity, load, minutes, pages, scale

BENCHMARKS = [pages.run, load.run, capacity.run, minutes.run, scale.run]
ONLY = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for benchmark in BENCHMARKS:
            if ONLY and benchmark.__module__.removeprefix("bench.") not in ONLY:
                continue
            rows.extend(benchmark(Path(folder)))
    width = max(len(r["figure"]) for r in rows)
    head = ("value", "baseline", "ratio", "budget")
    print(f"{'figure':<{width}}  " + "  ".join(f"{h:>10}" for h in head) + "  result")
    for r in rows:
        baseline = f"{r['baseline']:.1f}" if r.get("baseline") is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "-"
        print(
            f"{r['figure']:<{width}}  {r['value']:>10.1f}  {baseline:>10}  {ratio:>10}  "
            f"{r['budget']:>10}  {'pass' if r['pass'] else 'FAIL'}"
        )
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps({"generated_at": time.time(), "rows": rows}, indent=2))
    print(f"\nwritten to {out}")
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
