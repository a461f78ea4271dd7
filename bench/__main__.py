"""`make bench`: run every benchmark script in turn and keep their JSON under bench/results/.

Each script also runs alone (see its docstring) with more options; failures to meet a target are
reported in its output and in the exit code, and every script runs even if an earlier one missed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCRIPTS = [
    ("bench_classify.py", []),
    ("bench_poll.py", []),
    ("bench_board.py", []),
    ("bench_cycle.py", []),
    ("bench_airflow.py", []),
    ("bench_latency.py", ["--profile", "default", "--trials", "10"]),
]


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    failed = []
    for script, extra in SCRIPTS:
        path = HERE / script
        if not path.exists():
            continue
        print(f"\n=== {script} ===", flush=True)
        cmd = [sys.executable, str(path), *extra, "--json", str(RESULTS / f"{path.stem}.json")]
        if subprocess.run(cmd, cwd=HERE.parent).returncode != 0:
            failed.append(script)
    print(f"\nresults in {RESULTS}; targets missed in: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
