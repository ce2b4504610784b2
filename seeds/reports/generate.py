#!/usr/bin/env python3
"""Writes the recorded alert trails of seeds/reports/ (one alert with its audit trail per line).

Deterministic, standard library only: `python3 seeds/reports/generate.py` rewrites the same
file. Each alert is written as the gateway stores it: its latest revision (the `alerts` tree)
and every audit entry in revision order (the `audit` tree), as `{"alert": …, "audit": […]}`.
The story of each alert is in README.md; the expected report is night_shift.expected.json,
worked out by hand from that story.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
# 2026-11-23 00:00 in Asia/Shanghai (UTC+8), in UTC milliseconds.
NOV23 = 1_795_363_200_000
S = 1000
MIN = 60 * S
H = 60 * MIN
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def local(day, h, m=0, s=0):
    """Local time on 2026-11-`day`."""
    return NOV23 + (day - 23) * 24 * H + h * H + m * MIN + s * S


def ulid(ms, n):
    """A ULID with time `ms` and randomness `n` (deterministic)."""
    value = (ms << 80) | n
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def trail(n, kind, priority, subject, raised, steps, green=False, device=None):
    """`steps`: (action, seconds after the raise, by, via, note)."""
    aid = ulid(raised, 0x5EED0000 + n)
    resident = subject[1] if subject[0] == "resident" else None
    audit = [{"alert": aid, "revision": 1, "at": raised, "action": "raised", "by": None,
              "via": "system", "note": None}]
    alert = {
        "id": aid, "revision": 1, "kind": kind, "priority": priority,
        "subject": {"type": subject[0], "id": subject[1]}, "resident": resident,
        "location": {"floor": "2F", "room": "20%d" % (n % 9), "bed": None},
        "device": device or ("w-%d" % n), "raised_at": raised, "last_seen": raised, "count": 1,
        "state": "raised", "escalation_level": 0, "escalate_at": None,
        "condition_cleared": False, "cancel_until": None, "green_channel": green,
        "acknowledged_by": None, "acknowledged_at": None, "resolved_at": None,
        "resolution": None, "detail": "", "evidence": None,
    }
    for rev, (action, secs, by, via, note) in enumerate(steps, start=2):
        at = raised + int(secs * S)
        audit.append({"alert": aid, "revision": rev, "at": at, "action": action, "by": by,
                      "via": via, "note": note})
        alert["revision"] = rev
        if action == "delivered":
            alert["state"] = "delivered"
        elif action == "escalated":
            alert["state"] = "escalated"
            alert["escalation_level"] += 1
        elif action == "condition_cleared":
            alert["condition_cleared"] = True
        elif action == "acknowledged":
            alert["state"] = "acknowledged"
            alert["acknowledged_by"] = by
            alert["acknowledged_at"] = at
        elif action in ("resolved", "cancelled", "cleared"):
            alert["state"] = "resolved"
            alert["resolved_at"] = at
            alert["resolution"] = ("resolved by %s" % by) if action == "resolved" else note
    return {"alert": alert, "audit": audit}


SYS = (None, "system", None)


def sys(action, secs, note=None):
    return (action, secs, None, "system", note)


def person(action, secs, by, via="http", note=None):
    return (action, secs, by, via, note)


def night_shift():
    esc = lambda secs, level: sys("escalated", secs, "no acknowledgement; level %d" % level)
    return [
        # 1. Evening: an SOS answered in 45 s, resolved after 5 min.
        trail(1, "sos", "high", ("resident", "R1"), local(23, 22, 50),
              [sys("delivered", 1), person("acknowledged", 45, "li.na"),
               person("resolved", 300, "li.na", note="at the bedside, no injury")]),
        # 2. Night: a fall nobody answered for 200 s; escalated twice, the second time to the
        #    hospital (green channel).
        trail(2, "fall", "high", ("resident", "R2"), local(24, 1, 10),
              [sys("delivered", 1), esc(60, 1), esc(180, 2),
               person("acknowledged", 200, "wang.fang"),
               person("resolved", 1800, "wang.fang", note="hospital transfer")]),
        # 3. Night: NEWS2 emergency, sent to the green channel at once.
        trail(3, "vitals", "high", ("resident", "R3"), local(24, 2, 30),
              [sys("delivered", 1), person("acknowledged", 90, "li.na", via="mqtt"),
               person("resolved", 1200, "li.na")], green=True),
        # 4. Night: an SOS the resident cancelled within the cancel window.
        trail(4, "sos", "high", ("resident", "R4"), local(24, 3, 0),
              [sys("delivered", 1), ("cancelled", 8, None, "resident", "cancelled by the resident")]),
        # 5. Night: a bed exit that ended by itself before anyone answered.
        trail(5, "bed_exit", "medium", ("resident", "R5"), local(24, 3, 40),
              [sys("delivered", 1), sys("cleared", 240, "condition cleared")]),
        # 6. Night: an SOS raised just before the gateway restarted: its first escalation
        #    fired late, right after the restart (75 s instead of 60 s); acknowledged over MQTT
        #    after the condition had cleared, so it resolved at once.
        trail(6, "sos", "high", ("resident", "R1"), local(24, 4, 15),
              [sys("delivered", 1), sys("condition_cleared", 30, "condition cleared; latched until acknowledged"),
               esc(75, 1), person("acknowledged", 100, "zhao.min", via="mqtt"),
               sys("cleared", 100, "condition cleared")]),
        # 7. Night: the gateway's clock was set back 10 minutes between the raise and the answer.
        trail(7, "sos", "high", ("resident", "R2"), local(24, 5, 20),
              [sys("delivered", 1), person("acknowledged", -9 * 60, "li.na"),
               person("resolved", -6 * 60, "li.na")]),
        # 8. Night: a fall without motionlessness, never answered, escalated to the hospital,
        #    still open when the report is made.
        trail(8, "fall", "medium", ("resident", "R3"), local(24, 6, 50),
              [sys("delivered", 1), esc(60, 1), esc(180, 2)]),
        # 9. Day: a low battery, acknowledged after 10 min, still open (the battery is low).
        trail(9, "low_battery", "low", ("device", "w-9"), local(24, 7, 30),
              [sys("delivered", 1), person("acknowledged", 600, "li.na")], device="w-9"),
        # 10. Day: an SOS answered in 30 s.
        trail(10, "sos", "high", ("resident", "R4"), local(24, 8, 5),
              [sys("delivered", 1), person("acknowledged", 30, "wang.fang"),
               person("resolved", 180, "wang.fang")]),
        # 11. Day: an SOS raised at 07:00:00 exactly belongs to the day shift.
        trail(11, "sos", "high", ("resident", "R5"), local(24, 7, 0),
              [sys("delivered", 1), person("acknowledged", 60, "li.na"),
               person("resolved", 120, "li.na")]),
        # 12. Before the report's span: ignored.
        trail(12, "sos", "high", ("resident", "R1"), local(22, 12, 0),
              [sys("delivered", 1), person("acknowledged", 20, "li.na")]),
    ]


def main():
    path = os.path.join(HERE, "night_shift.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for t in night_shift():
            f.write(json.dumps(t, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
