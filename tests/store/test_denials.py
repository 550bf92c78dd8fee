"""The denial recorder's rate limit, on a clock the test moves: at most ``limit`` rows per
(user, reason) per window, one ``denied.suppressed`` row with the exact count when the
window ends, and bounded memory whatever arrives."""

from __future__ import annotations

from typing import Any

from jupyter_workspace_perms.store.denials import DenialRecorder

T0 = 1_800_000_000.0


def deny(recorder: DenialRecorder, who: str, reason: str, at: float, n: int = 1) -> None:
    for _ in range(n):
        recorder.record(who, reason, 7, "/api/contents/acme/x", "GET", 404, now=at)


def actions(rows: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(r["action"], r["actor"], r["details"].get("count")) for r in rows]


def test_a_flood_is_cut_at_the_limit_and_summed_up_when_the_window_ends() -> None:
    recorder = DenialRecorder(limit=3, window=10.0)
    deny(recorder, "otto", "not_found", T0, 500)
    deny(recorder, "vic", "role_too_low", T0 + 1, 2)
    first = recorder.drain(now=T0 + 5)
    assert actions(first) == [("denied", "otto", None)] * 3 + [("denied", "vic", None)] * 2
    assert first[0]["details"] == {"reason": "not_found", "method": "GET", "status": 404}
    assert first[0]["workspace_id"] == 7
    assert recorder.drain(now=T0 + 9.9) == []  # the window is still open
    ended = recorder.drain(now=T0 + 10.5)
    assert actions(ended) == [("denied.suppressed", "otto", 497)]  # vic suppressed nothing
    assert ended[0]["details"]["reason"] == "not_found"
    assert recorder.tracked == 1  # vic's window ends a second later
    assert recorder.drain(now=T0 + 11.5) == [] and recorder.tracked == 0
    # a new window: the limit applies afresh
    deny(recorder, "otto", "not_found", T0 + 20, 4)
    assert len(recorder.drain(now=T0 + 21)) == 3
    assert (recorder.recorded, recorder.suppressed) == (8, 498)


def test_tracked_keys_are_capped_and_the_rest_counted_in_one_overflow_window() -> None:
    recorder = DenialRecorder(limit=1, window=10.0, max_keys=5)
    for i in range(1000):
        deny(recorder, f"user{i}", "not_found", T0)
    assert recorder.tracked <= 6  # 5 keys and the overflow window
    rows = recorder.drain(now=T0 + 11)
    denied = [r for r in rows if r["action"] == "denied"]
    [overflow] = [r for r in rows if r["action"] == "denied.suppressed"]
    assert len(denied) == 5
    assert (overflow["actor"], overflow["details"]["reason"]) == ("*", "too_many_keys")
    assert overflow["details"]["count"] == 995
    assert recorder.tracked == 0


def test_pending_rows_are_bounded_and_shutdown_sums_up_open_windows() -> None:
    recorder = DenialRecorder(limit=100, window=60.0, max_pending=10)
    deny(recorder, "otto", "not_found", T0, 30)
    assert len(recorder.drain(now=T0 + 1)) == 10 and recorder.dropped == 20
    recorder = DenialRecorder(limit=2, window=60.0)
    deny(recorder, "otto", "not_found", T0, 5)
    recorder.finish()
    assert actions(recorder.drain(now=T0 + 1)) == [
        ("denied", "otto", None),
        ("denied", "otto", None),
        ("denied.suppressed", "otto", 3),
    ]


def test_switched_off_it_records_nothing() -> None:
    recorder = DenialRecorder(enabled=False)
    deny(recorder, "otto", "not_found", T0, 10)
    assert recorder.drain(now=T0 + 3600) == [] and recorder.tracked == 0
