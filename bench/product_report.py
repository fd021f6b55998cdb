"""Tables and targets of the product scenarios (room_join, page_load, room_fanout).

The issue's targets, as ratios within one run: the storms with 0 failures and
at least 0.5x the synthetic connect storm's connections per second; the room
fan-out at 5 messages/s with p99 <= 250 ms, 0 lost and at least 0.8x the
deliveries per second of a raw ``websockets`` room; presence frames per join
that do not grow with the room (growth: per join into the room's second half
over per join into its first half, at most 1.2 allowing for noise); the
rolling restart with every client back within 20 s, 0 lost, 0 duplicates.
"""

STORM_RATIO = 0.5
ROOM_RATE = 5
ROOM_P99_MS = 250.0
ROOM_VS_RAW = 0.8
PRESENCE_GROWTH = 1.2
BACK_S = 20.0  # rolling restart: every client joined again within this


def _ok(result) -> bool:
    return isinstance(result, dict) and "error" not in result


def _step_at(result, rate):
    if not _ok(result):
        return None
    return next((s for s in result.get("steps", ()) if s["rate"] == rate), None)


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def _target(value, goal, met) -> dict:
    return {"value": value, "target": goal, "met": bool(met)}


def targets(scenarios: dict) -> dict:
    out = {}
    synthetic = scenarios.get("storm", {}).get("duplex-redis")
    synthetic_rate = synthetic.get("connections_per_s") if _ok(synthetic) else None
    for name in ("room_join", "page_load"):
        result = scenarios.get(name, {}).get("duplex-redis")
        if result is None:
            continue
        ok = _ok(result)
        failures = result.get("failures") if ok else None
        out[f"{name}_failures"] = _target(failures, 0, failures == 0)
        ratio = _ratio(result.get("connections_per_s") if ok else None, synthetic_rate)
        out[f"{name}_vs_synthetic_storm"] = _target(
            ratio, STORM_RATIO, ratio is not None and ratio >= STORM_RATIO
        )
    joins = scenarios.get("room_join", {}).get("duplex-redis")
    if joins is not None:
        growth = joins.get("presence_growth") if _ok(joins) else None
        out["presence_frames_per_join_growth"] = _target(
            growth, PRESENCE_GROWTH, growth is not None and growth <= PRESENCE_GROWTH
        )
    room = scenarios.get("room_fanout", {})
    if room:
        ours = _step_at(room.get("duplex-redis"), ROOM_RATE)
        raw = _step_at(room.get("websockets"), ROOM_RATE)
        p99 = ours and ours["p99_ms"]
        lost = ours and ours["lost"] + ours["duplicates"]
        out[f"room_fanout_p99_ms_at_{ROOM_RATE}"] = _target(
            p99, ROOM_P99_MS, p99 is not None and p99 <= ROOM_P99_MS
        )
        out[f"room_fanout_lost_at_{ROOM_RATE}"] = _target(lost, 0, lost == 0)
        ratio = _ratio(
            ours and ours["deliveries_per_s"], raw and raw["deliveries_per_s"]
        )
        out[f"room_fanout_vs_websockets_at_{ROOM_RATE}"] = _target(
            ratio, ROOM_VS_RAW, ratio is not None and ratio >= ROOM_VS_RAW
        )
        if "ws-node" in room:
            node = _step_at(room.get("ws-node"), ROOM_RATE)
            ratio = _ratio(
                ours and ours["deliveries_per_s"], node and node["deliveries_per_s"]
            )
            out[f"room_fanout_vs_ws_node_at_{ROOM_RATE}"] = _target(ratio, None, None)
    rolling = scenarios.get("rolling", {}).get("duplex-redis-project")
    out.update(_rolling_targets(rolling))
    return out


def _rolling_targets(result) -> dict:
    if result is None:
        return {}
    ok = _ok(result)
    back = result.get("all_back_s") if ok else None
    lost = result.get("lost") if ok else None
    dups = result.get("duplicates") if ok else None
    sends = result.get("sends_lost") if ok else None
    twice = result.get("sends_stored_twice") if ok else None
    return {
        "rolling_all_back_s": _target(
            back, BACK_S, back is not None and back <= BACK_S
        ),
        "rolling_lost": _target(lost, 0, lost == 0),
        "rolling_duplicates": _target(dups, 0, dups == 0),
        "rolling_sends_lost": _target(sends, 0, sends == 0),
        "rolling_sends_stored_twice": _target(twice, 0, twice == 0),
    }


def _rolling_rows(block: dict) -> list[list]:
    rows = []
    for server, r in block.items():
        if not _ok(r):
            rows.append([server, "error: " + str(r.get("error"))[:60]])
            continue
        kinds = ", ".join(f"{k}: {v}" for k, v in r["failures_by_kind"].items())
        rows.append(
            [
                f"{server} x{r['processes']}",
                r["clients"],
                f"{r['clients_back']:,} of {r['clients_closed']:,}",
                r["back"]["p50_ms"],
                r["back"]["p99_ms"],
                r["all_back_s"],
                f"{r['stored_messages']} ({r['sent']} sent, "
                f"{r.get('sends_lost', '?')} lost)",
                r["lost"],
                r["duplicates"],
                r["resyncs"],
                kinds or "0",
            ]
        )
    return rows


ROLLING_HEADER = [
    "server",
    "clients",
    "back",
    "back p50 ms",
    "back p99 ms",
    "all back s",
    "stored",
    "lost",
    "dup",
    "resyncs",
    "failed attempts",
]


def _storm_rows(block: dict) -> list[list]:
    rows = []
    for server, result in block.items():
        if not _ok(result):
            rows.append([server, "error: " + str(result.get("error"))[:60]])
            continue
        for socket, s in result["sockets"].items():
            kinds = ", ".join(f"{k}: {v}" for k, v in s["failure_kinds"].items())
            rows.append(
                [
                    f"{server} {socket}",
                    f"{s['ready']:,} of {result['users']:,}",
                    s["ready_per_s"],
                    result.get("server_cpu_ms_per_user") if socket == "chat" else None,
                    s["handshake"]["p50_ms"],
                    s["handshake"]["p99_ms"],
                    s["handshake_and_hello"]["p50_ms"],
                    s["handshake_and_hello"]["p99_ms"],
                    s.get("told_to_wait", 0),
                    kinds or "0",
                ]
            )
    return rows


STORM_HEADER = [
    "server, socket",
    "ready",
    "ready/s",
    "server CPU ms/user",
    "hs p50 ms",
    "hs p99 ms",
    "hs+hello p50 ms",
    "hs+hello p99 ms",
    "1013, retried",
    "failures",
]


def _presence_rows(block: dict) -> list[list]:
    rows = []
    for server, r in block.items():
        if _ok(r):
            probes = ", ".join(f"{k}: {v}" for k, v in r["presence_probe"].items())
            rows.append(
                [
                    server,
                    r["presence_frames"],
                    r["presence_per_join"],
                    r["presence_per_join_first_half"],
                    r["presence_per_join_second_half"],
                    r["presence_growth"],
                    probes,
                ]
            )
    return rows


def _room_rows(block: dict) -> list[list]:
    rows = []
    for server, result in block.items():
        if not _ok(result):
            rows.append([server, "error: " + str(result.get("error"))[:60]])
            continue
        for s in result["steps"]:
            lost = f"{s['lost']} (+{s.get('duplicates', 0)} dup)"
            rows.append(
                [
                    server,
                    result["members"],
                    s["rate"],
                    s["deliveries_per_s"],
                    s["p50_ms"],
                    s["p99_ms"],
                    s["max_ms"],
                    lost,
                    s.get("refused", 0),
                ]
            )
    return rows


def tables(scenarios: dict, table, md: bool) -> list[str]:
    """The product tables, drawn by ``table(title, header, rows, md)``."""

    def padded(title, header, rows, md):
        rows = [row + [None] * (len(header) - len(row)) for row in rows]
        return table(title, header, rows, md)

    parts = []
    titles = {
        "room_join": "Room-join storm: logged-in users, chat.join to chat.joined",
        "page_load": "Page-load storm: each user opens a chat page's sockets together",
    }
    for name, title in titles.items():
        if name in scenarios:
            rows = _storm_rows(scenarios[name])
            parts.append(padded(title, STORM_HEADER, rows, md))
    if "room_join" in scenarios:
        header = ["server", "frames", "per join", "1st half", "2nd half", "growth"]
        parts.append(
            padded(
                "Presence frames received per join during the room-join storm"
                " (probe: frames for one more join, by room size)",
                [*header, "probe"],
                _presence_rows(scenarios["room_join"]),
                md,
            )
        )
    if "room_fanout" in scenarios:
        header = ["server", "members", "msg/s", "deliv/s", "p50 ms", "p99 ms"]
        parts.append(
            padded(
                "Room fan-out: chat.send by a few members, delivered to every member",
                [*header, "max ms", "lost", "refused"],
                _room_rows(scenarios["room_fanout"]),
                md,
            )
        )
    if "rolling" in scenarios:
        parts.append(
            padded(
                "Rolling restart: one of two processes SIGTERMed and restarted",
                ROLLING_HEADER,
                _rolling_rows(scenarios["rolling"]),
                md,
            )
        )
    return parts
