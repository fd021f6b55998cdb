"""Run ORM writes off Playwright's thread, where Django's async check forbids them."""

from concurrent.futures import ThreadPoolExecutor


def in_thread(fn):
    """ORM writes and their publishes, off Playwright's event-loop thread."""
    from django.db import connection

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()
