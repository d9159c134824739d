"""The benchmark suite: throughput, client CPU, codec cost, memory and connections, as ratios.

    python benchmarks/run.py                   # full: 20,000 calls a run, 3 repetitions
    python benchmarks/run.py --quick           # under a minute: 2,000 calls, 1 repetition
    python benchmarks/run.py --json out.json   # also write every figure as JSON
    python benchmarks/run.py --strict          # exit 1 when a target is missed

Method (see benchmarks/README.md): one loopback server process (`_server.py`) pinned to one
CPU; every client configuration in a fresh process (`_clients.py`) pinned to another, warmed
up, then timed; configurations interleaved round-robin over the repetitions; each cell the
median over the repetitions; every ratio taken between cells of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Final

import codec
import memory
from _clients import library_features
from _common import CLIENT_ID, CLIENT_MD5, median, pin

HERE: Final = Path(__file__).resolve().parent
CONCURRENCIES: Final = (1, 10, 50)
TOP: Final = 50  # the concurrency of the XML-RPC and HTTPS rows
SECTIONS: Final = ("codec", "http", "memory")
QUICK_MEMORY_SIZES: Final = (2_000, 20_000)
VERSIONED: Final = ("mailkit-async", "httpx", "httpcore", "aiohttp", "uvloop", "trustme")


@dataclass(frozen=True)
class Config:
    """One client configuration: a row of the table."""

    client: str  # see _clients.CLIENTS
    concurrency: int
    protocol: str = "json"
    engine: str = "default"  # wipe_many's engine= ("default": the library has no keyword)
    transport: str = ""  # what carries it: httpx, builtin, aiohttp, http.client
    tls: bool = False

    @property
    def label(self) -> str:
        if self.client == "wipe_many":
            return f"wipe_many [{self.transport}]"
        return self.client

    @property
    def key(self) -> str:
        return f"{self.label} {self.protocol} N={self.concurrency}{' https' if self.tls else ''}"


def plan_configs(
    features: dict[str, bool], *, tls: bool, quick: bool, default: str
) -> list[Config]:
    """The rows: wipe_many per engine, the raw loops and threads, at each concurrency.

    The XML-RPC and HTTPS rows are at N = TOP only; --quick runs them for the default
    engine alone (httpx rows there take seconds each, and quick must stay under a minute).
    """
    engines = (
        [("builtin", "builtin"), ("httpx", "httpx")]
        if features["engine"]
        else [("default", "httpx")]
    )
    raws = [("raw-builtin", "builtin")] if features["h1_sender"] else []
    raws += [("raw-httpx", "httpx"), ("raw-aiohttp", "aiohttp")]
    configs: list[Config] = []
    for n in CONCURRENCIES:
        configs += [Config("wipe_many", n, engine=e, transport=t) for e, t in engines]
        configs += [Config(c, n, transport=t) for c, t in raws]
        configs.append(Config("threads-xmlrpc", n, protocol="xmlrpc", transport="http.client"))
    extra = [(e, t) for e, t in engines if t == default] if quick else engines
    configs += [
        Config("wipe_many", TOP, protocol="xmlrpc", engine=e, transport=t) for e, t in extra
    ]
    if tls:
        configs += [Config("wipe_many", TOP, engine=e, transport=t, tls=True) for e, t in extra]
        configs.append(Config("raw-aiohttp", TOP, transport="aiohttp", tls=True))
    return configs


def default_engine(features: dict[str, bool]) -> str:
    """The transport a default-built client uses: the one the "install targets" hold for."""
    if not features["engine"]:
        return "httpx"
    from mailkit_async import MailkitClient

    async def probe() -> str:
        # Inside a loop, in case a sender binds to one when built; nothing is sent.
        async with MailkitClient(CLIENT_ID, CLIENT_MD5, base_url="http://127.0.0.1:9") as client:
            return type(getattr(client, "_sender", None)).__name__

    try:
        sender = asyncio.run(probe())
    except Exception:  # a private attribute that moved: assume the new engine is the default
        return "builtin"
    return "httpx" if "Httpx" in sender else "builtin"


# -- the server ----------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    http: int
    https: int | None
    control: int
    cafile: str | None


@contextlib.contextmanager
def running_server(cpu: int | None, tls_dir: Path | None) -> Iterator[Server]:
    """Start _server.py; it lives until its stdin is closed, i.e. until we leave."""
    command = [sys.executable, str(HERE / "_server.py")]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    cafile = None
    if tls_dir is not None:
        command += ["--cert", str(tls_dir / "server.pem")]
        cafile = str(tls_dir / "ca.pem")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ports = json.loads(process.stdout.readline())
        yield Server(process, ports["http"], ports["https"], ports["control"], cafile)
    finally:
        stdin: IO[str] | None = process.stdin
        if stdin is not None:
            stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_ca(directory: Path) -> bool:
    """A throwaway CA and a 127.0.0.1 certificate (trustme); False when trustme is missing."""
    try:
        import trustme
    except ImportError:
        return False
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    return True


# -- running configurations ----------------------------------------------------------------


#: Prepended to the clients' PYTHONPATH by --library: another checkout's mailkit_async,
#: measured against the same server in the same conditions (before/after a change).
CLIENT_ENV: dict[str, str] = {}


def run_config(config: Config, server: Server, calls: int, cpu: int | None) -> dict[str, Any]:
    """One configuration in a fresh process; its JSON line, or {"error": ...}."""
    port = server.https if config.tls else server.http
    command = [
        sys.executable, str(HERE / "_clients.py"),
        "--client", config.client,
        "--engine", config.engine,
        "--protocol", config.protocol,
        "--concurrency", str(config.concurrency),
        "--calls", str(calls),
        "--port", str(port),
        "--control", str(server.control),
    ]  # fmt: skip
    if config.tls:
        assert server.cafile is not None
        command += ["--cafile", server.cafile]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, **CLIENT_ENV} if CLIENT_ENV else None,
        )
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 900 s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode not in (0, 3) or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(lines[-1])
    if result["failures"]:
        result["error"] = f"{result['failures']} of {calls} calls failed"
    return result


def run_matrix(
    configs: list[Config], server: Server, *, calls: int, reps: int, cpu: int | None
) -> dict[str, list[dict[str, Any]]]:
    """Every configuration once per repetition, round-robin, the order rotated each time."""
    runs: dict[str, list[dict[str, Any]]] = {c.key: [] for c in configs}
    total = len(configs) * reps
    done = 0
    for rep in range(reps):
        shift = rep % len(configs)
        for config in configs[shift:] + configs[:shift]:
            done += 1
            result = run_config(config, server, calls, cpu)
            runs[config.key].append(result)
            shown = f"{result['calls_per_s']:,.0f} calls/s" if "calls_per_s" in result else ""
            status = result.get("error", shown)
            print(f"  [{done}/{total}] {config.key}: {status}", file=sys.stderr, flush=True)
    return runs


def summarise(configs: list[Config], runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Medians over the repetitions, then the ratios between rows of the same run."""
    rows: list[dict[str, Any]] = []
    for config in configs:
        good = [r for r in runs[config.key] if "error" not in r]
        row: dict[str, Any] = {**asdict(config), "label": config.label, "key": config.key}
        row["errors"] = [r["error"] for r in runs[config.key] if "error" in r]
        if good:
            speeds = [r["calls_per_s"] for r in good]
            row |= {
                "calls_per_s": median(speeds),
                "min_calls_per_s": min(speeds),
                "max_calls_per_s": max(speeds),
                "cpu_us_per_call": median([r["cpu_us_per_call"] for r in good]),
                "server_cpu": median([r["server_cpu"] for r in good]),
                "new_connections": max(r["new_connections"] for r in good),
                "server_closes": max(r.get("server_closes", 0) for r in good),
                "p50_ms": _median_or_none([r["p50_ms"] for r in good]),
                "p99_ms": _median_or_none([r["p99_ms"] for r in good]),
            }
        rows.append(row)

    def speed(client: str, n: int, *, protocol: str = "json", tls: bool = False) -> float | None:
        for other in rows:
            if (other["client"], other["concurrency"], other["protocol"], other["tls"]) == (
                client, n, protocol, tls
            ):  # fmt: skip
                value: float | None = other.get("calls_per_s")
                return value
        return None

    for row in rows:
        mine = row.get("calls_per_s")
        n, tls = row["concurrency"], row["tls"]
        aiohttp = speed("raw-aiohttp", n, tls=tls)
        threads = None if tls else speed("threads-xmlrpc", n, protocol="xmlrpc")
        same = None
        if row["client"] == "wipe_many" and row["protocol"] == "json":
            same = speed(f"raw-{row['transport']}", n, tls=tls)
        row["x_aiohttp"] = _ratio(mine, aiohttp)
        row["x_threads"] = _ratio(mine, threads)
        row["x_raw_same_transport"] = _ratio(mine, same)
    return rows


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return median(present) if present else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


# -- the other sections --------------------------------------------------------------------


def run_codec(quick: bool) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "codec.py"), "--child"]
    if quick:
        command.append("--quick")
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_memory(sizes: tuple[int, ...]) -> dict[str, Any]:
    """memory.py in a process of its own, which starts each size's process in turn.

    Not from here: Linux carries a parent's peak RSS over into a child it spawns (ru_maxrss
    survives fork and exec), so children of this process, which has httpx and aiohttp
    loaded, would report at least its peak instead of their own.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "memory.json"
        command = [sys.executable, str(HERE / "memory.py"), "--json", str(out)]
        command += ["--sizes", ",".join(map(str, sizes))]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 1) or not out.exists():  # 1: a target missed
            return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
        report = json.loads(out.read_text())
    runs = report["runs"]
    return {
        "runs": runs,
        "ratio": report["ratio"],
        "peak_bytes": max(r["peak_rss_bytes"] for r in runs),
    }


# -- targets and output --------------------------------------------------------------------


def targets(
    rows: list[dict[str, Any]],
    codec_result: dict[str, Any] | None,
    memory_result: dict[str, Any] | None,
    engine: str,
) -> list[dict[str, Any]]:
    """Every target of the issue that this run measured, with its figure and verdict."""
    found: list[dict[str, Any]] = []

    def check(name: str, value: float | None, limit: float, *, at_least: bool) -> None:
        passed = None if value is None else (value >= limit if at_least else value <= limit)
        sign = ">=" if at_least else "<="
        found.append({"target": f"{name} {sign} {limit:g}", "value": value, "passed": passed})

    def row_of(client: str, n: int, transport: str) -> dict[str, Any] | None:
        for row in rows:
            if (row["client"], row["concurrency"], row["transport"], row["protocol"]) == (
                client, n, transport, "json"
            ) and not row["tls"]:  # fmt: skip
                return row
        return None

    for n in (10, 50):
        row = row_of("wipe_many", n, engine)
        if row is not None:
            check(f"wipe_many [{engine}] N={n} / raw aiohttp", row["x_aiohttp"], 2.0, at_least=True)
            check(f"wipe_many [{engine}] N={n} / threads", row["x_threads"], 2.5, at_least=True)
    for row in rows:
        if row["client"] == "wipe_many" and row["protocol"] == "json" and not row["tls"]:
            name = f"wipe_many [{row['transport']}] N={row['concurrency']} / raw, same transport"
            check(name, row["x_raw_same_transport"], 0.9, at_least=True)
    for row in rows:
        if row["client"] == "wipe_many":
            name = f"new connections, {row['key']}"
            check(name, row.get("new_connections"), row["concurrency"], at_least=False)
    if codec_result is not None and "ratios" in codec_result:
        for ratio in codec_result["ratios"]:
            if ratio["target"] is not None:
                check(ratio["label"], ratio["ratio"], ratio["target"], at_least=False)
    if memory_result is not None and "ratio" in memory_result:
        check("peak RSS ratio, big / small input", memory_result["ratio"], 1.1, at_least=False)
        check("highest peak RSS, MB", memory_result["peak_bytes"] / 1e6, 100, at_least=False)
    return found


def _num(value: float | None, spec: str, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{spec}}"


def print_http(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'client':<22} {'proto':<6} {'N':>3} {'tls':<5} {'calls/s':>8} {'spread':>13} "
        f"{'x aiohttp':>9} {'x threads':>9} {'x raw':>6} {'CPU us':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'conns':>5} {'srv CPU':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        start = (
            f"{row['label']:<22} {row['protocol']:<6} {row['concurrency']:>3} "
            f"{'https' if row['tls'] else '':<5} "
        )
        if "calls_per_s" not in row:
            print(start + "FAILED: " + "; ".join(row["errors"]))
            continue
        spread = f"{row['min_calls_per_s']:,.0f}-{row['max_calls_per_s']:,.0f}"
        print(
            start
            + f"{row['calls_per_s']:>8,.0f} {spread:>13} "
            + f"{_num(row['x_aiohttp'], '.2f', 9)} {_num(row['x_threads'], '.2f', 9)} "
            + f"{_num(row['x_raw_same_transport'], '.2f', 6)} "
            + f"{row['cpu_us_per_call']:>7,.0f} {_num(row['p50_ms'], '.2f', 7)} "
            + f"{_num(row['p99_ms'], '.2f', 7)} {row['new_connections']:>5} "
            + f"{row['server_cpu']:>7.2f}"
        )
    busiest = max((r["server_cpu"] for r in rows if "server_cpu" in r), default=None)
    if busiest is not None:
        print(f"server headroom: its busiest run used {busiest:.0%} of its CPU")
    closed = [r["key"] for r in rows if r.get("server_closes")]
    if closed:  # then "conns" is not the client's own doing
        print("the server closed connections (malformed requests?) in: " + ", ".join(closed))


def print_targets(found: list[dict[str, Any]]) -> None:
    width = max((len(t["target"]) for t in found), default=0)
    for t in found:
        value = "not measured" if t["value"] is None else f"{t['value']:.3g}"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["passed"]]
        print(f"{verdict:<4}  {t['target']:<{width}}  measured {value}")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def cpus() -> tuple[int | None, int | None]:
    """(server CPU, client CPU): two distinct CPUs we may run on, or None, None."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(allowed) < 2:
        return None, None
    return allowed[-1], allowed[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small, one repetition, < 1 min")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write all results here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--calls", type=int, help="timed calls per run (20,000; quick 2,000)")
    parser.add_argument("--reps", type=int, help="repetitions (3; quick 1)")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--concurrency", action="append", type=int, help="only rows at this N (repeatable)"
    )
    parser.add_argument(
        "--client", action="append", help="only rows of this client, e.g. raw-aiohttp (repeatable)"
    )
    parser.add_argument(
        "--plain", action="store_true", help="JSON over HTTP rows only (no XML-RPC, no HTTPS)"
    )
    parser.add_argument(
        "--library",
        metavar="DIR",
        type=Path,
        help="clients import mailkit_async from DIR (a checkout): compare before and after",
    )
    args = parser.parse_args(argv)
    if args.library is not None:
        CLIENT_ENV["PYTHONPATH"] = os.pathsep.join(
            [str(args.library.resolve()), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    calls = args.calls or (2_000 if args.quick else 20_000)
    reps = args.reps or (1 if args.quick else 3)
    sections = set(args.only or SECTIONS)
    server_cpu, client_cpu = cpus()
    started = time.monotonic()

    features = library_features()
    engine = default_engine(features)
    print(
        f"mailkit_async benchmark suite ({'quick' if args.quick else 'full'}): "
        f"{calls:,} timed calls a run, {reps} repetition(s); server on CPU {server_cpu}, "
        f"clients on CPU {client_cpu}; library engines: "
        f"{'builtin, httpx' if features['engine'] else 'httpx only (no engine= keyword)'}; "
        f"a default client uses {engine}",
        flush=True,
    )
    if server_cpu is None:
        print("warning: fewer than 2 CPUs available, server and clients share one")

    codec_result = memory_result = None
    rows: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tls_dir = Path(tmp) if make_ca(Path(tmp)) else None
        if tls_dir is None:
            print("trustme is not installed: no HTTPS rows (pip install -e '.[bench]')")
        with running_server(server_cpu, tls_dir) as server:
            pin(client_cpu)  # this process and its children (codec, memory) on the client CPU
            if "codec" in sections:
                print("codec ...", file=sys.stderr, flush=True)
                codec_result = run_codec(args.quick)
            if "http" in sections:
                print("throughput ...", file=sys.stderr, flush=True)
                configs = plan_configs(
                    features, tls=tls_dir is not None, quick=args.quick, default=engine
                )
                configs = [
                    c
                    for c in configs
                    if (args.concurrency is None or c.concurrency in args.concurrency)
                    and (args.client is None or c.client in args.client or c.label in args.client)
                    and not (
                        args.plain and (c.tls or (c.client == "wipe_many" and c.protocol != "json"))
                    )
                ]
                runs = run_matrix(configs, server, calls=calls, reps=reps, cpu=client_cpu)
                rows = summarise(configs, runs)
    if "memory" in sections:
        print("memory ...", file=sys.stderr, flush=True)  # each size in a fresh process
        memory_result = run_memory(QUICK_MEMORY_SIZES if args.quick else memory.DEFAULT_SIZES)

    print()
    if rows:
        print("Throughput and client CPU (medians; x = calls/s ratio in this run)")
        print_http(rows)
        print()
    if codec_result is not None:
        print("Codec cost per call")
        if "error" in codec_result:
            print("FAILED: " + codec_result["error"])
        else:
            codec.print_report(codec_result["ns_per_call"])
        print()
    if memory_result is not None:
        print(f"Memory: wipe_many through the in-process emulator, N={memory.CONCURRENCY}")
        if "error" in memory_result:
            print("FAILED: " + memory_result["error"])
        else:
            memory.print_table(memory_result["runs"])
        print()
    found = targets(rows, codec_result, memory_result, engine)
    print("Targets (ratios from this run)")
    print_targets(found)
    wall = time.monotonic() - started
    print(f"\n{wall:.0f} s; CPU is shared with other work on this machine, so figures are noisy")

    broken = any(row["errors"] for row in rows) or any(
        r is not None and "error" in r for r in (codec_result, memory_result)
    )
    if args.json is not None:
        report = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "calls": calls,
            "repetitions": reps,
            "cpus": {"server": server_cpu, "client": client_cpu, "count": os.cpu_count()},
            "python": platform.python_version(),
            "platform": platform.platform(),
            "versions": versions(),
            "library": features,
            "default_engine": engine,
            "http": {"rows": rows, "runs": runs},
            "codec": codec_result,
            "memory": memory_result,
            "targets": found,
            "wall_s": wall,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if broken:
        print("some runs FAILED: see above", file=sys.stderr)
        return 2
    if args.strict and any(t["passed"] is False for t in found):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
