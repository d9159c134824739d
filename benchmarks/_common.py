"""What the benchmark's server, clients and runner share: answers, credentials, CPU pinning."""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
from collections.abc import Sequence
from typing import Final

WIPE: Final = "mailkit.email.wipe"
# Throwaway values: the benchmark server never checks credentials, and nothing prints them.
CLIENT_ID: Final = "12345"
CLIENT_MD5: Final = "0123456789abcdef0123456789abcdef"

#: Mailkit's documented JSON success answer for mailkit.email.wipe (int ID, int error_status).
JSON_ANSWER: Final = (
    b'{"ID_email":12345678,"email":"example@example.com","error_status":0,"error":"OK"}'
)
#: The XML-RPC success answer: a struct {email, error_status i4, ID_email i4, error}, laid out
#: as Mailkit's own 2018 answers are (indented, one element per line).
XMLRPC_ANSWER: Final = b"""<?xml version="1.0" encoding="utf-8"?>
<methodResponse>
    <params>
        <param>
            <value>
                <struct>
                    <member>
                        <name>email</name>
                        <value>
                            <string>example@example.com</string>
                        </value>
                    </member>
                    <member>
                        <name>error_status</name>
                        <value>
                            <i4>0</i4>
                        </value>
                    </member>
                    <member>
                        <name>ID_email</name>
                        <value>
                            <i4>12345678</i4>
                        </value>
                    </member>
                    <member>
                        <name>error</name>
                        <value>
                            <string>OK</string>
                        </value>
                    </member>
                </struct>
            </value>
        </param>
    </params>
</methodResponse>
"""


def address(i: int) -> str:
    return f"user{i:07d}@example.com"


def wipe_envelope(i: int) -> dict[str, object]:
    """The JSON API's request object for one wipe, as a hand-written client builds it."""
    return {
        "function": WIPE,
        "id": CLIENT_ID,
        "md5": CLIENT_MD5,
        "parameters": {"email": address(i)},
    }


def cpu_seconds() -> float:
    """This process's CPU time so far (user + system, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pin(cpu: int | None) -> None:
    """Run this process (and its future children) on one CPU; None leaves it unpinned."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def server_stats(port: int) -> dict[str, float]:
    """The server's counters: connections it accepted ("accepts") and closed ("closes") so far,
    and its CPU time ("cpu_s").

    Read over a control port whose own connections the server does not count.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    stats: dict[str, float] = json.loads(data)
    return stats


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
