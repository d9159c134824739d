"""Job throughput: `mailkit-async wipe` over N lines against the emulator served on loopback.

    python benchmarks/job.py                    # 50,000, 100,000 and 200,000 lines, 3 reps
    python benchmarks/job.py --quick            # 5,000 and 20,000 lines, 1 repetition
    python benchmarks/job.py --sizes 10000,50000 --reps 2
    python benchmarks/job.py --load 10000000    # peak RSS of reading a 10,000,000-line input
    python benchmarks/job.py --json out.json

Method. Each run gets a fresh emulator (`mailkit_async.testing.serve`, auto-creating the
recipients) in a process of its own, and runs the command in another fresh process:
`wipe INPUT --journal J --base-url URL --concurrency 10 --quiet --json`, N distinct addresses,
a new journal each time. Lines/s is N over the command's whole wall time (start-up, reading
and journalling the input, sending, the report). Peak RSS is the command's own high-water
mark (`VmHWM` read as it exits; a child's `ru_maxrss` would start from its parent's).

Baseline, in the same run and interleaved with it: `client.wipe_many` over the same N
addresses against a fresh emulator served the same way, same concurrency, no journal. The
job's lines/s over it is what the journal, lock, claims and report cost.

`--load N` measures reading an N-line input into a journal and finding its duplicates (a
`--dry-run --emulator`, which loads into a temporary on-disk journal and sends nothing).

Targets (issue 11): the job at 200,000 lines >= 6,000 lines/s; peak RSS at the largest size
<= 1.1x that at the smallest. Exit 1 when one is missed, 2 when a run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

CLIENT_ID: Final = "12345"
CLIENT_MD5: Final = "0123456789abcdef0123456789abcdef"
CONCURRENCY: Final = 10
DEFAULT_SIZES: Final = (50_000, 100_000, 200_000)
QUICK_SIZES: Final = (5_000, 20_000)
RATE_TARGET: Final = 6_000.0
RATE_TARGET_SIZE: Final = 200_000
RSS_RATIO_TARGET: Final = 1.1
MIB: Final = 1024 * 1024

_SERVE = """
import asyncio, sys
from mailkit_async.testing import MailkitEmulator, serve

async def main():
    emulator = MailkitEmulator(sys.argv[1], sys.argv[2], auto_create=True)
    async with serve(emulator) as server:
        print(server.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""

# Runs the command in this process and writes its peak RSS where PEAK_FILE says, at exit.
_JOB = """
import atexit, os, sys

def peak():
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(str(kib * 1024))

if os.path.exists("/proc/self/status"):
    atexit.register(peak)
from mailkit_async._cli import main
sys.exit(main(sys.argv[1:]))
"""

_BASELINE = """
import asyncio, json, os, sys, time
import mailkit_async as mk

async def main():
    n, url = int(sys.argv[1]), sys.argv[2]
    ok = 0
    async with mk.MailkitClient(sys.argv[3], sys.argv[4], base_url=url,
                                max_concurrency=int(sys.argv[5])) as client:
        started = time.perf_counter()
        batch = client.wipe_many((f"b{i}@example.com" for i in range(n)),
                                 concurrency=int(sys.argv[5]))
        async with batch:
            async for outcome in batch:
                ok += outcome.ok
        wall = time.perf_counter() - started
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"ok": ok, "wall_s": wall, "peak_bytes": kib * 1024}))

asyncio.run(main())
"""


@contextmanager
def emulator_server() -> Iterator[str]:
    """A fresh emulator on loopback, in a process of its own; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, CLIENT_ID, CLIENT_MD5],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(30)
        process.stdout.close()


def write_input(directory: Path, n: int) -> Path:
    path = directory / f"in-{n}.txt"
    if not path.exists():
        with path.open("w", encoding="utf-8") as file:
            for i in range(n):
                file.write(f"user{i}@example.com\n")
    return path


def run_job(directory: Path, source: Path, extra: list[str]) -> dict[str, Any]:
    """The command in a fresh process: wall time, peak RSS and its JSON summary."""
    journal = directory / "job.sqlite"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    peak_file = directory / "peak"
    peak_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILKIT_")}
    env.update(MAILKIT_CLIENT_ID=CLIENT_ID, MAILKIT_CLIENT_MD5=CLIENT_MD5)
    env["PEAK_FILE"] = str(peak_file)
    command = [sys.executable, "-c", _JOB, "wipe", str(source), "--journal", str(journal)]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--quiet", "--json", *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-2000:])
        raise SystemExit(f"FAIL: the job exited {done.returncode}")
    summary = json.loads(done.stdout)
    peak = int(peak_file.read_text()) if peak_file.exists() else 0
    return {"wall_s": wall, "peak_bytes": peak, "summary": summary}


def measure_job(directory: Path, n: int) -> dict[str, Any]:
    source = write_input(directory, n)
    with emulator_server() as url:
        result = run_job(directory, source, ["--base-url", url, "--concurrency", str(CONCURRENCY)])
    statuses = result["summary"]["statuses"]
    if statuses != {"queued": n}:
        raise SystemExit(f"FAIL: N={n:,}: statuses {statuses}, expected {n:,} queued")
    return {"n": n, "lines_per_s": n / result["wall_s"], **result}


def measure_baseline(n: int) -> dict[str, Any]:
    with emulator_server() as url:
        done = subprocess.run(
            [sys.executable, "-c", _BASELINE, str(n), url, CLIENT_ID, CLIENT_MD5, str(CONCURRENCY)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-2000:])
        raise SystemExit("FAIL: the wipe_many baseline failed")
    result: dict[str, Any] = json.loads(done.stdout)
    if result["ok"] != n:
        raise SystemExit(f"FAIL: wipe_many baseline: {result['ok']:,} of {n:,} succeeded")
    return {"n": n, "lines_per_s": n / result["wall_s"], **result}


def measure_load(directory: Path, n: int) -> dict[str, Any]:
    """Reading N lines into a (temporary) journal: a dry run that sends nothing."""
    source = write_input(directory, n)
    result = run_job(directory, source, ["--emulator", "--dry-run"])
    if result["summary"]["would_send"] != n:
        raise SystemExit(f"FAIL: the dry run would send {result['summary']['would_send']:,}")
    return {"n": n, "lines_per_s": n / result["wall_s"], **result}


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}-{max(values):,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="5,000 and 20,000 lines, 1 rep")
    parser.add_argument(
        "--sizes", type=lambda text: tuple(int(n) for n in text.split(",")), help="N,N,..."
    )
    parser.add_argument("--reps", type=int, help="repetitions (default 3, 1 with --quick)")
    parser.add_argument("--load", type=int, metavar="N", help="only the load of an N-line input")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    reps = args.reps or (1 if args.quick else 3)
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="mailkit-job-bench-") as temporary:
        directory = Path(temporary)
        if args.load:
            load = measure_load(directory, args.load)
            print(
                f"load of {args.load:,} lines (dry run): {load['wall_s']:.1f} s, "
                f"{load['lines_per_s']:,.0f} lines/s, peak RSS {load['peak_bytes'] / MIB:.1f} MiB"
            )
            if args.json:
                args.json.write_text(json.dumps({"load": load}, indent=2))
            return 0
        jobs: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
        bases: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
        for rep in range(reps):
            for n in sizes if rep % 2 == 0 else reversed(sizes):  # interleaved, order varied
                print(f"rep {rep + 1}/{reps}: N={n:,} job, then wipe_many", file=sys.stderr)
                jobs[n].append(measure_job(directory, n))
                bases[n].append(measure_baseline(n))
    print(
        f"{'N':>9}  {'job lines/s':>11}  {'spread':>13}  {'wipe_many/s':>11}  {'x base':>6}  "
        f"{'job RSS MiB':>11}  {'spread':>11}"
    )
    rows = []
    for n in sizes:
        rate = statistics.median(r["lines_per_s"] for r in jobs[n])
        base = statistics.median(r["lines_per_s"] for r in bases[n])
        peaks = [r["peak_bytes"] / MIB for r in jobs[n]]
        rows.append(
            {
                "n": n,
                "lines_per_s": rate,
                "baseline_per_s": base,
                "peak_mib": statistics.median(peaks),
            }
        )
        print(
            f"{n:>9,}  {rate:>11,.0f}  {spread([r['lines_per_s'] for r in jobs[n]]):>13}  "
            f"{base:>11,.0f}  {rate / base:>6.2f}  {statistics.median(peaks):>11.1f}  "
            f"{min(peaks):>5.1f}-{max(peaks):<5.1f}"
        )
    missed = 0
    if RATE_TARGET_SIZE in jobs:
        rate = next(r["lines_per_s"] for r in rows if r["n"] == RATE_TARGET_SIZE)
        verdict = "PASS" if rate >= RATE_TARGET else "FAIL"
        missed += verdict == "FAIL"
        print(
            f"job at {RATE_TARGET_SIZE:,} lines: {rate:,.0f} lines/s, "
            f"target >= {RATE_TARGET:,.0f}: {verdict}"
        )
    if len(rows) > 1 and rows[0]["peak_mib"]:
        ratio = rows[-1]["peak_mib"] / rows[0]["peak_mib"]
        verdict = "PASS" if ratio <= RSS_RATIO_TARGET else "FAIL"
        missed += verdict == "FAIL"
        print(
            f"peak RSS {rows[-1]['n']:,} / {rows[0]['n']:,} lines = {ratio:.3f}, "
            f"target <= {RSS_RATIO_TARGET}: {verdict}"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "jobs": jobs, "baselines": bases}, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
