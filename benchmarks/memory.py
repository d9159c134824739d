"""Memory benchmark: peak RSS of `wipe_many` over 1,000,000 inputs vs 100,000.

The batcher reads its input lazily with a fixed set of workers, so its memory is bounded
by the window (in flight plus finished-but-unread), not by the input's length. This script
checks that claim from the outside: it pushes N generated inputs through
`MailkitClient.wipe_many` against the in-process emulator, each size in a fresh subprocess
so that `ru_maxrss` (a high-water mark that never goes down) belongs to that size alone.

    python benchmarks/memory.py            # 100,000 and 1,000,000 inputs
    python benchmarks/memory.py --quick    # 10,000 and 100,000 inputs
    python benchmarks/memory.py --sizes 2000,20000
    python benchmarks/memory.py --json results.json

Targets (the project's issue): peak RSS of the big run over the small run <= 1.1, and every
peak under 100 MB (10**8 bytes). Exit status 1 when a target is missed, 2 when a run fails
(a child crashed, or an outcome went missing or came back an error).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TypedDict

CONCURRENCY: Final = 50
DEFAULT_SIZES: Final = (100_000, 1_000_000)
QUICK_SIZES: Final = (10_000, 100_000)
RATIO_TARGET: Final = 1.1
RSS_TARGET_BYTES: Final = 100 * 10**6  # "under 100 MB", read strictly (~95.4 MiB)
CLIENT_ID: Final = "12345"
CLIENT_MD5: Final = "0123456789abcdef0123456789abcdef"
# The emulator keeps state per recipient and per call, which would make RSS grow with N for
# reasons that are not the client's. To keep it flat:
# - a fixed pool of POOL_SIZE recipients is created up front and the inputs cycle over it,
#   so the emulator never creates a recipient during the run: each address is QUEUED once,
#   every later wipe of it is answered ALREADY_QUEUED (still a full request/response round
#   trip through the client, which is what is measured). Calling `process_wipe_queue()`
#   from an `on_outcome` hook instead would delete the recipients and let `auto_create`
#   re-create them under fresh IDs, churning the emulator's dicts for no gain.
# - the emulator's call log (`MailkitEmulator.calls`, one tuple per request, about 130 bytes
#   each, so ~130 MB per million calls) would grow with N for a reason that is not the
#   client's; it is emptied every CALL_LOG_FLUSH outcomes with clear_calls().
POOL_SIZE: Final = 1_000
CALL_LOG_FLUSH: Final = 1_000
MIB: Final = 1024 * 1024


class RunResult(TypedDict):
    n: int
    wall_s: float
    outcomes_per_s: float
    baseline_rss_bytes: int
    peak_rss_bytes: int
    statuses: dict[str, int]
    emulator_wipe_queue: int
    emulator_recipients_wiped: int


def max_rss_bytes() -> int:
    """This process's peak resident set size so far, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def pool_address(i: int) -> str:
    return f"user{i:04d}@example.com"


def addresses(n: int, pool: list[str]) -> Iterator[str]:
    """N inputs, cycling over the pool: a generator, so the input itself costs nothing."""
    size = len(pool)
    for i in range(n):
        yield pool[i % size]


async def measure(n: int) -> RunResult:
    """One size, in this process: wipe N inputs and verify every outcome."""
    import mailkit_async as mk
    from mailkit_async.testing import EmulatorTransport, MailkitEmulator

    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    pool = [emu.add_recipient(pool_address(i)).email for i in range(POOL_SIZE)]

    count = 0
    index_sum = 0
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, transport=EmulatorTransport(emu), max_concurrency=CONCURRENCY
    ) as client:
        baseline = max_rss_bytes()  # after imports, emulator set-up and client construction
        started = time.perf_counter()
        batch = client.wipe_many(addresses(n, pool), concurrency=CONCURRENCY)
        async with batch:
            async for outcome in batch:
                if outcome.error is not None:
                    raise SystemExit(
                        f"N={n}: input {outcome.index} ({outcome.item!r}) failed: "
                        f"{type(outcome.error).__name__}: {outcome.error}"
                    )
                if outcome.item != pool[outcome.index % POOL_SIZE]:
                    raise SystemExit(
                        f"N={n}: outcome {outcome.index} carries {outcome.item!r}, "
                        f"not its input {pool[outcome.index % POOL_SIZE]!r}"
                    )
                count += 1
                index_sum += outcome.index
                if count % CALL_LOG_FLUSH == 0:
                    emu.clear_calls()  # see CALL_LOG_FLUSH above
        wall = time.perf_counter() - started
        summary = batch.summary
    peak = max_rss_bytes()

    # Every input came back exactly once: N outcomes whose indexes sum to 0 + 1 + ... + N-1
    # (with the item check above, a duplicate would need a matching missing index).
    problems: list[str] = []
    if count != n or summary.outcomes != n:
        problems.append(f"{count} outcomes read, summary counts {summary.outcomes}, expected {n}")
    if index_sum != n * (n - 1) // 2:
        problems.append("outcome indexes do not cover 0..N-1 exactly once")
    if summary.errors:
        problems.append(f"errors: {dict(summary.errors)}")
    statuses = dict(summary.statuses)
    queued = min(n, POOL_SIZE)
    expected = {"queued": queued, "already_queued": n - queued}
    if statuses != {k: v for k, v in expected.items() if v}:
        problems.append(f"statuses {statuses}, expected {expected}")
    if len(emu.wipe_queue) != queued:
        problems.append(f"emulator wipe queue holds {len(emu.wipe_queue)}, expected {queued}")
    if problems:
        raise SystemExit(f"N={n}: " + "; ".join(problems))

    return RunResult(
        n=n,
        wall_s=wall,
        outcomes_per_s=n / wall,
        baseline_rss_bytes=baseline,
        peak_rss_bytes=peak,
        statuses=statuses,
        emulator_wipe_queue=len(emu.wipe_queue),
        emulator_recipients_wiped=len(emu.wipe_requests),
    )


def run_child(n: int) -> RunResult:
    """Measure one size in a fresh interpreter, so its ru_maxrss is its own."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        print(f"FAIL: the N={n:,} run exited with status {proc.returncode}", file=sys.stderr)
        raise SystemExit(2)
    result: RunResult = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def mib(n_bytes: int) -> float:
    return n_bytes / MIB


def print_table(results: list[RunResult]) -> None:
    header = (
        f"{'N':>10}  {'wall s':>8}  {'outcomes/s':>10}  {'baseline MiB':>12}  {'peak RSS MiB':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['n']:>10,}  {r['wall_s']:>8.1f}  {r['outcomes_per_s']:>10,.0f}  "
            f"{mib(r['baseline_rss_bytes']):>12.1f}  {mib(r['peak_rss_bytes']):>12.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Peak RSS of wipe_many over a big input vs a small one."
    )
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 inputs")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        help="comma-separated input counts, smallest first (overrides --quick)",
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the results here")
    parser.add_argument("--child", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:
        print(json.dumps(asyncio.run(measure(args.child))))
        return 0

    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    print(
        f"wipe_many through the in-process emulator, concurrency {CONCURRENCY}, "
        f"{POOL_SIZE:,} recipients cycled; one subprocess per size"
    )
    results: list[RunResult] = []
    for n in sizes:
        results.append(run_child(n))
    print_table(results)

    small, big = results[0], results[-1]
    ratio = big["peak_rss_bytes"] / small["peak_rss_bytes"]
    worst = max(r["peak_rss_bytes"] for r in results)
    ratio_ok = ratio <= RATIO_TARGET
    rss_ok = worst < RSS_TARGET_BYTES
    print(
        f"RSS({big['n']:,}) / RSS({small['n']:,}) = {ratio:.3f}   "
        f"target <= {RATIO_TARGET}: {'PASS' if ratio_ok else 'FAIL'}"
    )
    print(
        f"highest peak RSS {worst / 10**6:.1f} MB ({mib(worst):.1f} MiB)   "
        f"target < {RSS_TARGET_BYTES // 10**6} MB: {'PASS' if rss_ok else 'FAIL'}"
    )

    if args.json is not None:
        report: dict[str, Any] = {
            "benchmark": "wipe_many peak RSS",
            "concurrency": CONCURRENCY,
            "recipient_pool": POOL_SIZE,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "runs": results,
            "ratio": ratio,
            "ratio_target": RATIO_TARGET,
            "rss_target_bytes": RSS_TARGET_BYTES,
            "passed": ratio_ok and rss_ok,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if ratio_ok and rss_ok else 1


if __name__ == "__main__":
    sys.exit(main())
