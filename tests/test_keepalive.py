"""How long an idle connection is trusted: what is learnt from the closes a server makes."""

from __future__ import annotations

import math

from mailkit_async._keepalive import IdleLimit, keep_for, parse_keep_alive


def test_nothing_seen_trusts_forever_until_the_default_caps_it() -> None:
    assert IdleLimit().keep_for == math.inf


def test_a_close_seen_late_does_not_lengthen_what_was_learnt() -> None:
    # A busy loop reads a 100 ms server's FIN 300 ms late: 0.4 s must not be learnt.
    limit = IdleLimit()
    limit.closed_after(0.1)
    limit.closed_after(0.4)
    assert limit.keep_for == keep_for(0.1)


def test_a_close_cut_short_once_is_forgotten_after_a_few_usual_ones() -> None:
    limit = IdleLimit()
    limit.closed_after(0.5)  # the server restarted
    for _ in range(3):
        limit.closed_after(5.0)
        assert limit.keep_for == keep_for(0.5)  # early retirement: the safe side
    limit.closed_after(5.0)
    assert limit.keep_for == keep_for(5.0)


def test_a_connection_found_closed_bounds_the_time_from_above() -> None:
    limit = IdleLimit()
    limit.closed_after(5.0)
    limit.closed_within(2.0)
    assert limit.keep_for == keep_for(2.0)
    limit.closed_within(3.0)  # a weaker bound changes nothing
    assert limit.keep_for == keep_for(2.0)


def test_keep_for_leaves_a_margin_of_a_quarter_up_to_a_second() -> None:
    assert keep_for(0.1) == 0.1 - 0.025
    assert keep_for(5.0) == 4.0
    assert keep_for(75.0) == 74.0


def test_keep_alive_header_timeout() -> None:
    assert parse_keep_alive("timeout=5, max=100") == 5.0
    assert parse_keep_alive("max=100,timeout=15") == 15.0
    assert parse_keep_alive("Timeout = 2") == 2.0
    assert parse_keep_alive("max=100") is None
    assert parse_keep_alive("timeout=5s") is None
    assert parse_keep_alive(None) is None
