"""Demo data: what each feature needs to be alive on a fresh database.

Each feature adds a seeding function to ``SEEDERS``; every one is idempotent,
so ``manage.py demo_data`` can run on every start.
"""

from collections.abc import Callable

SEEDERS: list[Callable[[], str]] = []


def seed_scores() -> str:
    """A competition, four teams, and today's matches: live, upcoming, finished."""
    from datetime import timedelta

    from django.utils import timezone

    from realtime.models import Competition, Match, Team

    league, _ = Competition.objects.get_or_create(
        slug="duplex-league", defaults={"name": "Duplex League 双工联赛"}
    )
    teams = {}
    for slug, name, short in [
        ("beijing-lions", "Beijing Lions 北京雄狮", "BJL"),
        ("shanghai-harbour", "Shanghai Harbour 上海港", "SHH"),
        ("london-rovers", "London Rovers", "LDR"),
        ("porto-atletico", "Porto Atlético", "POA"),
    ]:
        teams[short], _ = Team.objects.get_or_create(
            slug=slug, defaults={"name": name, "short_name": short}
        )
    now = timezone.now()
    plans = [
        ("BJL", "SHH", now, {"simulated": True}),
        ("LDR", "POA", now + timedelta(hours=3), {}),
        ("SHH", "LDR", now - timedelta(hours=3), {"status": "finished"}),
    ]
    made = 0
    for home, away, kickoff, extra in plans:
        match = Match.objects.filter(home=teams[home], away=teams[away]).first()
        if match is None:
            match = Match(competition=league, home=teams[home], away=teams[away])
            made += 1
        if match.kickoff is None or match.kickoff.date() != kickoff.date():
            match.kickoff = kickoff  # keep the demo's matches on today's page
            for field, value in extra.items():
                setattr(match, field, value)
            if extra.get("status") == "finished":
                match.minute, match.home_score, match.away_score = 90, 2, 1
            match.save()
    return f"Scores: {league.name}, {len(teams)} teams, {made} new match(es)."


SEEDERS.append(seed_scores)


def seed_instruments() -> str:
    """A few stocks and funds for the quotes board (existing ones are kept)."""
    from realtime.models import Instrument

    demo = [
        ("AAPL", "Apple Inc.", "stock", "USD", 227.5, 1.6),
        ("MSFT", "Microsoft Corp.", "stock", "USD", 415.2, 1.4),
        ("NVDA", "NVIDIA Corp.", "stock", "USD", 128.4, 3.2),
        ("600519.SS", "贵州茅台", "stock", "CNY", 1508.0, 1.5),
        ("0700.HK", "腾讯控股", "stock", "HKD", 412.6, 2.0),
        ("VFIAX", "Vanguard 500 Index Fund", "fund", "USD", 521.37, 0.8),
        ("110022", "易方达消费行业股票基金", "fund", "CNY", 3.5123, 1.0),
    ]
    created = 0
    for symbol, name, kind, currency, price, volatility in demo:
        _, new = Instrument.objects.get_or_create(
            symbol=symbol,
            defaults={
                "name": name,
                "kind": kind,
                "currency": currency,
                "reference_price": price,
                "volatility": volatility,
            },
        )
        created += new
    return f"Quotes: {len(demo)} instruments ({created} new)."


SEEDERS.append(seed_instruments)


def seed_price_history() -> str:
    """A month of simulated chart points for instruments without any, so the
    hour and day candles have something to show on a fresh database."""
    from django.utils import timezone

    from realtime.models import Instrument
    from realtime.quotes.history import simulate_history

    made = 0
    for instrument in Instrument.objects.filter(active=True, history__isnull=True):
        made += simulate_history(instrument, timezone.now())
    return f"Quotes: {made} simulated chart points."


SEEDERS.append(seed_price_history)


def seed_chat() -> str:
    """Three rooms: two public (one with a Chinese name), one private."""
    from realtime.chat.models import Room

    rooms = [
        ("lobby", "Lobby · 大厅", "Say hello. Be kind.", True),
        ("tech", "技术讨论", "WebSocket, Channels and daphne", True),
        ("staff", "Staff room", "Members only", False),
    ]
    for slug, name, topic, public in rooms:
        Room.objects.get_or_create(
            slug=slug, defaults={"name": name, "topic": topic, "is_public": public}
        )
    return f"Chat: {Room.objects.count()} rooms (/chat/)."


SEEDERS.append(seed_chat)
