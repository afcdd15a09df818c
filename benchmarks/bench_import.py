"""Import time: ``import autodiscover_client`` against ``import requests``, each in fresh interpreters.

Run: python benchmarks/bench_import.py [--quick]
Target (issue 4): autodiscover_client <= 1.2 x requests, with dnspython loaded lazily (on first use).
Each repetition starts one fresh interpreter per module, alternating, and times only the import
statement (not the interpreter's start-up); the figures are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

try:
    from _common import verdict
except ImportError:  # run as a module
    from benchmarks._common import verdict

_PROBE = (
    "import sys, time, json\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "elapsed = time.perf_counter() - start\n"
    "print(json.dumps({{'elapsed': elapsed, 'dns': any(m == 'dns' or m.startswith('dns.') for m in sys.modules),"
    " 'requests': 'requests' in sys.modules}}))\n"
)


def measure(module: str) -> dict[str, object]:
    """Import ``module`` in a fresh interpreter; return the time and which heavy packages it loaded."""
    output = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    result: dict[str, object] = json.loads(output)
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure and print; exit 0 if the target is met, 1 if not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    repeat = 7 if args.quick else 25
    ours: list[float] = []
    theirs: list[float] = []
    ratios: list[float] = []
    loaded = {"dns": False, "requests": False}
    for _ in range(repeat):
        mine = measure("autodiscover_client")
        other = measure("requests")
        ours.append(float(mine["elapsed"]))  # type: ignore[arg-type]
        theirs.append(float(other["elapsed"]))  # type: ignore[arg-type]
        ratios.append(ours[-1] / theirs[-1])
        loaded["dns"] = loaded["dns"] or bool(mine["dns"])
        loaded["requests"] = loaded["requests"] or bool(mine["requests"])
    mine_median, theirs_median, ratio = statistics.median(ours), statistics.median(theirs), statistics.median(ratios)
    print(f"bench_import: medians of {repeat} fresh interpreters each, alternating")
    print(f"  import requests              {theirs_median * 1e3:7.1f} ms")
    print(f"  import autodiscover_client   {mine_median * 1e3:7.1f} ms   (median ratio {ratio:.2f} x)")
    print(f"  dnspython loaded by the import: {loaded['dns']}; requests loaded: {loaded['requests']}")
    print(f"  load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (on {os.cpu_count()} CPUs)")
    met = verdict("import <= 1.2 x requests", ratio <= 1.2, f"{ratio:.2f} x")
    lazy = verdict("dnspython loaded lazily", not loaded["dns"], "not imported" if not loaded["dns"] else "imported")
    return 0 if met and lazy else 1


if __name__ == "__main__":
    sys.exit(main())
