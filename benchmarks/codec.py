"""Codec cost per call: the library's encode + decode + classify vs the stdlib's bare codecs.

    python benchmarks/codec.py [--quick] [--json PATH] [--clock cpu|wall]

Every case is one wipe call's worth of work on the same request and the same answer bodies
the throughput server sends. Each case is calibrated to about `--sample-s` seconds per sample
(timeit's loop, garbage collector off), then all cases are timed in turn, round-robin, and
each figure is the median of the samples. The clock is this process's CPU time by default
(`--clock cpu`), so time the process spends descheduled on a shared machine is not counted;
`--clock wall` times with `perf_counter`, as timeit does. Figures are ns per call; the targets
are ratios:

- XML-RPC decode through the hardened parser <= 1.0x unsafe `xmlrpc.client.loads`;
- JSON encode + decode + classify <= 2x a bare `json.loads` of the same answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import timeit
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from _common import CLIENT_ID, CLIENT_MD5, JSON_ANSWER, WIPE, XMLRPC_ANSWER, address, median

Case = Callable[[], object]


def build_cases() -> dict[str, Case]:
    """name -> one call's work. Checks first that every path decodes the same answer."""
    from mailkit_async import JsonCodec, WipeStatus, XmlRpcCodec
    from mailkit_async._classify import WIPE as WIPE_TABLE
    from mailkit_async._classify import classify_wipe
    from mailkit_async._credentials import Credentials

    try:  # the codecs' methods as the dispatcher calls them, past their argument checks
        from mailkit_async._validate import unchecked
    except ImportError:  # a library from before those checks (--library)

        def unchecked(method: Any) -> Any:
            return method

    credentials = Credentials(CLIENT_ID, CLIENT_MD5)
    email = address(1)
    params = {"email": email}
    envelope = {"function": WIPE, "id": CLIENT_ID, "md5": CLIENT_MD5, "parameters": params}
    xml_params = (int(CLIENT_ID), CLIENT_MD5, email)
    json_codec = JsonCodec()
    xml_codec = XmlRpcCodec()

    def library(codec: JsonCodec | XmlRpcCodec, answer: bytes) -> Case:
        # What the dispatcher and wipe() do per call, minus the HTTP: encode the call, decode
        # the answer, read it (global errors first, then wipe's strings).
        encode, decode = unchecked(codec.encode_call), unchecked(codec.decode_reply)

        def run() -> object:
            encode(WIPE, params, credentials)
            return classify_wipe(decode(answer, function=WIPE), WIPE_TABLE, function=WIPE)

        return run

    json_decode, xml_decode = unchecked(json_codec.decode_reply), unchecked(xml_codec.decode_reply)
    cases: dict[str, Case] = {
        "json library encode+decode+classify": library(json_codec, JSON_ANSWER),
        "json stdlib dumps+loads": lambda: (
            json.dumps(envelope).encode(),
            json.loads(JSON_ANSWER),
        ),
        "json library decode": lambda: json_decode(JSON_ANSWER, function=WIPE),
        "json stdlib loads": lambda: json.loads(JSON_ANSWER),
        "xmlrpc library encode+decode+classify": library(xml_codec, XMLRPC_ANSWER),
        "xmlrpc stdlib dumps+loads": lambda: (
            xmlrpc.client.dumps(xml_params, methodname=WIPE).encode(),
            xmlrpc.client.loads(XMLRPC_ANSWER),
        ),
        "xmlrpc library decode": lambda: xml_decode(XMLRPC_ANSWER, function=WIPE),
        "xmlrpc stdlib loads": lambda: xmlrpc.client.loads(XMLRPC_ANSWER),
    }
    cases.update(_field_readers())

    # A faster path that decoded something else would be no win: compare before timing.
    stdlib_xml = xmlrpc.client.loads(XMLRPC_ANSWER)[0][0]
    if xml_codec.decode_reply(XMLRPC_ANSWER, function=WIPE) != stdlib_xml:
        raise SystemExit("the library's XML-RPC decode differs from xmlrpc.client.loads")
    if json_codec.decode_reply(JSON_ANSWER, function=WIPE) != json.loads(JSON_ANSWER):
        raise SystemExit("the library's JSON decode differs from json.loads")
    for name in ("json library encode+decode+classify", "xmlrpc library encode+decode+classify"):
        result: Any = cases[name]()
        if result.status is not WipeStatus.QUEUED:
            raise SystemExit(f"{name}: classified as {result.status}, expected QUEUED")
    return cases


def _field_readers() -> dict[str, Case]:
    """The wipe answer's fields read directly, and through the cattrs converter, which is
    the one definition of that record: the direct read is a copy kept only because it pays
    (the "converter / direct" row says by how much)."""
    try:
        from mailkit_async._convert import StatusReply, reply_fields, structure
    except ImportError:  # a library from before reply_fields (--library)
        return {}
    value = json.loads(JSON_ANSWER)
    via_converter = structure(value, StatusReply, function=WIPE)
    direct = reply_fields(value, function=WIPE)
    converted = (
        via_converter.error,
        via_converter.error_status,
        via_converter.id_email,
        via_converter.email,
    )
    if direct != converted:
        raise SystemExit("the direct read of the fields differs from the converter's")
    return {
        "json fields, direct": lambda: reply_fields(value, function=WIPE),
        "json fields, cattrs converter": lambda: structure(value, StatusReply, function=WIPE),
    }


#: The clocks a sample may be timed with.
CLOCKS: Final[dict[str, Callable[[], float]]] = {
    "cpu": time.process_time,
    "wall": time.perf_counter,
}


def calibrate(case: Case, sample_s: float, clock: Callable[[], float]) -> int:
    """Loops per sample so that one sample takes about `sample_s` seconds."""
    timer = timeit.Timer(case, timer=clock)
    number = 1
    while True:
        took = timer.timeit(number)
        if took >= sample_s / 4:
            return max(1, round(number * sample_s / took))
        number *= 4


def measure(*, samples: int, sample_s: float, clock: str = "cpu") -> dict[str, float]:
    """Median ns per call of every case, cases interleaved sample by sample."""
    cases = build_cases()
    timer = CLOCKS[clock]
    loops = {name: calibrate(case, sample_s, timer) for name, case in cases.items()}
    timings: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for k in range(samples):
        # Rotate the order, so no case always runs right after the same neighbour.
        for name in names[k % len(names) :] + names[: k % len(names)]:
            took = timeit.Timer(cases[name], timer=timer).timeit(loops[name])
            timings[name].append(took / loops[name] * 1e9)
    return {name: median(values) for name, values in timings.items()}


#: (label, numerator case, denominator case, target or None): ratios of ns per call.
RATIOS: Final = (
    ("XML-RPC decode / xmlrpc.client.loads", "xmlrpc library decode", "xmlrpc stdlib loads", 0.8),
    (
        "JSON encode+decode+classify / json.loads",
        "json library encode+decode+classify",
        "json stdlib loads",
        2.0,
    ),
    (
        "JSON encode+decode+classify / json dumps+loads",
        "json library encode+decode+classify",
        "json stdlib dumps+loads",
        None,
    ),
    (
        "XML-RPC encode+decode+classify / xmlrpc dumps+loads",
        "xmlrpc library encode+decode+classify",
        "xmlrpc stdlib dumps+loads",
        None,
    ),
    (
        "reading the fields: cattrs converter / direct",
        "json fields, cattrs converter",
        "json fields, direct",
        None,
    ),
)


def ratios(ns: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for label, top, bottom, target in RATIOS:
        if top not in ns or bottom not in ns:
            continue  # a case the library under test does not have (--library)
        ratio = ns[top] / ns[bottom]
        rows.append(
            {
                "label": label,
                "ratio": ratio,
                "target": target,
                "passed": None if target is None else ratio <= target,
            }
        )
    return rows


def print_report(ns: dict[str, float]) -> None:
    width = max(map(len, ns))
    print(f"{'case':<{width}}  {'ns/call':>9}")
    print("-" * (width + 11))
    for name, value in ns.items():
        print(f"{name:<{width}}  {value:>9,.0f}")
    for row in ratios(ns):
        verdict = ""
        if row["target"] is not None:
            verdict = f"   target <= {row['target']}: {'PASS' if row['passed'] else 'FAIL'}"
        print(f"{row['label']} = {row['ratio']:.2f}x{verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Codec cost per call, library vs stdlib.")
    parser.add_argument("--quick", action="store_true", help="3 short samples instead of 7")
    parser.add_argument("--samples", type=int, help="samples per case (default 7, quick 3)")
    parser.add_argument("--sample-s", type=float, help="seconds per sample (0.2, quick 0.05)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the results here")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="what a sample is timed by"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    samples = args.samples or (3 if args.quick else 7)
    sample_s = args.sample_s or (0.05 if args.quick else 0.2)

    ns = measure(samples=samples, sample_s=sample_s, clock=args.clock)
    checked = ratios(ns)
    report = {
        "ns_per_call": ns,
        "ratios": checked,
        "samples": samples,
        "sample_s": sample_s,
        "clock": args.clock,
    }
    if args.child:  # run.py reads this one line
        print(json.dumps(report))
        return 0
    print_report(ns)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(row["passed"] is not False for row in checked) else 1


if __name__ == "__main__":
    sys.exit(main())
