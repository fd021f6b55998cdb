"""Demo data: what each feature needs to be alive on a fresh database.

Each feature adds a seeding function to ``SEEDERS``; every one is idempotent,
so ``manage.py demo_data`` can run on every start.
"""

from collections.abc import Callable

SEEDERS: list[Callable[[], str]] = []


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
