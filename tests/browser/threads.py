"""Run ORM writes off Playwright's thread, where Django's async check forbids them."""

from concurrent.futures import ThreadPoolExecutor


def in_thread(fn, *args):
    """ORM writes and their publishes, off Playwright's event-loop thread, as
    another process would make them."""
    from django.db import connection

    def run():
        try:
            return fn(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()
