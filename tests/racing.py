"""Racing threads for the PostgreSQL concurrency tests (each thread its own connection)."""

import threading

from django.db import connections


def race(calls):
    """Run each call in its own thread at once; returns (results, errors) in call order."""
    start = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), [None] * len(calls)

    def run(n, call):
        try:
            start.wait(timeout=10)
            results[n] = call()
        except Exception as exc:  # reported by the test; a thread cannot fail it itself
            errors[n] = exc
        finally:
            connections.close_all()  # each thread's own connection

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
