"""Typed calls against `wipe`: client CPU per call, same server, same run.

The target (the whole-API issue): a typed call costs no more client CPU than `wipe`. Each
row runs `calls` calls of one method through `client.map` against the emulator served on
loopback by a child process (pinned to CPU 1, the client to CPU 0), and counts the client
process's CPU time only. Within each repetition the rows take turns of ROUND calls; a row's
ratio to wipe is taken per repetition, and the median ratio is reported with its range.

    python benchmarks/typed.py                      # 5,000 calls a row, 3 repetitions, JSON
    python benchmarks/typed.py --quick              # 1,000 calls, 1 repetition
    python benchmarks/typed.py --protocol xmlrpc
    python benchmarks/typed.py --json out.json
    python benchmarks/typed.py --live               # the emulator acts on every call

By default the server replays each function's first answer (see `serve`), so a row's
figure is what the client spends on that call, not on waiting for a slower server action.

Only single-recipient calls and small answers are rows: a bulk read (`list_recipients`,
`list_unsubscribed`) costs what its answer's size costs, which `benchmarks/codec.py` measures
per byte. Exit status 1 with `--strict` when a row is above the target, 2 when a run failed
(a call ended in an error).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CLIENT_ID, CLIENT_MD5, address, cpu_seconds, median, pin

POOL: Final = 1_000  # recipients the server holds; the calls cycle over them
CONCURRENCY: Final = 10
ROUND: Final = 250  # calls a row runs before the next row takes its turn
TARGET: Final = 1.0  # x wipe's client CPU per call
LIST_NAME: Final = "benchmark list"

class RunFailedError(Exception):
    """A call of a row ended in an error: figures from a broken run are not figures."""


Work = Callable[[Any, int, int], Awaitable[object]]

#: name -> (client, i, list_id) -> the call. The baseline first.
CASES: Final[dict[str, Work]] = {
    "wipe": lambda c, i, _: c.wipe(address(i % POOL)),
    "unsubscribe": lambda c, i, _: c.unsubscribe(address(i % POOL), send_optout=False),
    "get_unsubscribe_status": lambda c, i, _: c.get_unsubscribe_status(address(i % POOL)),
    "get_status": lambda c, i, _: c.get_status(address(i % POOL)),
    "get_status_history": lambda c, i, _: c.get_status_history(address(i % POOL)),
    "add_user": lambda c, i, list_id: c.add_user(list_id, address(i % POOL)),
    "list_mailing_lists": lambda c, i, _: c.list_mailing_lists(),
    "create_mailing_list": lambda c, i, _: c.create_mailing_list(LIST_NAME),
    "delete_mailing_list": lambda c, i, _: c.delete_mailing_list(999_999_999),
}
BASELINE: Final = "wipe"


#: The function a request calls, in either protocol's body.
_FUNCTION: Final = re.compile(rb'"function":"([^"]+)"|<methodName>([^<]+)</methodName>')


def serve(*, live: bool) -> int:
    """The child: the emulator with POOL recipients and one list, on loopback, until stdin ends.

    Unless `live`, each function's first answer is replayed for the rest of the run: the
    server then costs the same for every row, and a slow server action (a wipe, a record
    built) does not change how many answers the client reads per loop wakeup, which would
    move the client's CPU for a reason that is not the client's.
    """
    from mailkit_async.testing import MailkitEmulator
    from mailkit_async.testing import serve as serve_emulator

    answers: dict[tuple[str, bytes], Any] = {}

    class Emulator(MailkitEmulator):
        def handle(self, path: str, body: bytes, **kwargs: Any) -> Any:
            # Its call log would grow with the run for a reason that is not the client's.
            if len(self.calls) >= 1_000:
                self.clear_calls()
            if live:
                return super().handle(path, body, **kwargs)
            found = _FUNCTION.search(body)
            key = (path, found.group(0) if found else b"")
            answer = answers.get(key)
            if answer is None:
                answer = answers[key] = super().handle(path, body, **kwargs)
            return answer

    emulator = Emulator(CLIENT_ID, CLIENT_MD5)
    list_id = emulator.add_mailing_list(LIST_NAME)
    for i in range(POOL):
        emulator.add_recipient(address(i), mailing_list_id=list_id)

    async def main() -> None:
        async with serve_emulator(emulator) as server:
            print(json.dumps({"base_url": server.base_url, "list_id": list_id}), flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())
    return 0


async def measure(
    base_url: str, list_id: int, *, protocol: str, calls: int, reps: int, rows: list[str]
) -> dict[str, list[float]]:
    """row -> client CPU microseconds per call, one figure per repetition."""
    import mailkit_async as mk

    figures: dict[str, list[float]] = {name: [] for name in rows}
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, base_url=base_url, protocol=protocol  # type: ignore[arg-type]
    ) as client:
        for name in rows:  # warm up each path once: connections, caches
            await run_row(client, CASES[name], list_id, calls // 10 or 1)
        # Each repetition runs the rows in turns of ROUND calls: a shared machine's slow
        # spells (seconds long, 30% and more) then fall on every row alike, not on one.
        turns = max(1, calls // ROUND)
        for _ in range(reps):
            spent = dict.fromkeys(rows, 0.0)
            for _ in range(turns):
                for name in rows:
                    start = cpu_seconds()
                    await run_row(client, CASES[name], list_id, calls // turns)
                    spent[name] += cpu_seconds() - start
            for name in rows:
                figures[name].append(spent[name] / (turns * (calls // turns)) * 1e6)
    return figures


async def run_row(client: Any, work: Work, list_id: int, calls: int) -> None:
    batch = client.map(lambda i: work(client, i, list_id), range(calls), concurrency=CONCURRENCY)
    async for outcome in batch:
        if outcome.error is not None:
            raise RunFailedError(f"{type(outcome.error).__name__}: {outcome.error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--live", action="store_true", help="the emulator acts on every call (no replay)"
    )
    parser.add_argument("--quick", action="store_true", help="1,000 calls a row, 1 repetition")
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--protocol", choices=["json", "xmlrpc"], default="json")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--rows", metavar="A,B", help="only these rows (and wipe)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a row misses")
    args = parser.parse_args(argv)
    if args.serve:
        pin(1)
        return serve(live=args.live)
    calls, reps = (1_000, 1) if args.quick else (args.calls, args.reps)

    import mailkit_async as mk

    rows = [name for name in CASES if name == BASELINE or hasattr(mk.MailkitClient, name)]
    if args.rows:
        unknown = set(args.rows.split(",")) - set(rows)
        if unknown:
            parser.error(f"no such row: {', '.join(sorted(unknown))}")
        chosen = args.rows.split(",")
        rows = [name for name in rows if name == BASELINE or name in chosen]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", *(["--live"] if args.live else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:
            print("the emulator's server process did not start", file=sys.stderr)
            return 2
        ready = json.loads(line)
        pin(0)
        figures = asyncio.run(
            measure(
                ready["base_url"],
                ready["list_id"],
                protocol=args.protocol,
                calls=calls,
                reps=reps,
                rows=rows,
            )
        )
    except RunFailedError as exc:
        print(f"a call failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)

    # The ratio is taken within each repetition (the rows' turns shared its machine) and
    # its median reported: a ratio of medians would mix repetitions.
    baseline = figures[BASELINE]
    missed = []
    print(f"client CPU per call, {args.protocol}, {calls:,} calls x {reps}, medians")
    print(f"{'call':<24}{'us/call':>10}{'x wipe':>9}{'  ratios min-max':>18}")
    for name in rows:
        ratios = [value / base for value, base in zip(figures[name], baseline, strict=True)]
        ratio = median(ratios)
        verdict = "" if name == BASELINE else ("  PASS" if ratio <= TARGET else "  FAIL")
        if verdict.strip() == "FAIL":
            missed.append(name)
        span = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{name:<24}{median(figures[name]):>10.1f}{ratio:>8.2f}x{span:>18}{verdict}")
    print(f"target: every typed call <= {TARGET:.1f}x wipe; missed: {', '.join(missed) or 'none'}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"protocol": args.protocol, "calls": calls, "us_per_call": figures})
        )
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
