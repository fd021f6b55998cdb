"""Demo data: what each feature needs to be alive on a fresh database.

Each feature adds a seeding function to ``SEEDERS``; every one is idempotent,
so ``manage.py demo_data`` can run on every start.
"""

from collections.abc import Callable

SEEDERS: list[Callable[[], str]] = []
