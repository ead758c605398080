"""The live server of the alerts bench (``incidents/bench_alerts.py``): forked worker
processes serving one request at a time each, timing server and CPU time per request, and
client threads posting to them flat out or paced."""

import http.client
import os
import signal
import threading
import time

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connection, connections


class TimedApp:
    """The WSGI handler with a timer around it: server time and the worker's CPU time per
    request (from the parsed request to the response handed to the server: no network),
    written as a line to ``fd`` (a pipe the bench reads; one short write is atomic)."""

    def __init__(self, fd: int) -> None:
        self.handler = WSGIHandler()
        self.fd = fd

    def __call__(self, environ, start_response):
        began, cpu = time.perf_counter(), time.process_time()
        try:
            return self.handler(environ, start_response)
        finally:
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            os.write(self.fd, f"{wall:.6f} {cpu:.6f}\n".encode())


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 (the base's signature)
        return None


class Workers:
    """A deployment's web tier in miniature: ``count`` forked worker processes, each one
    request at a time on a listening socket they share (gunicorn's sync workers, as the
    README deploys with ``--workers``), each with its own persistent database connection to
    the bench database. The clients run in this process, out of the workers' way."""

    def __init__(self, count: int) -> None:
        self.server = WSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
        self.port = self.server.server_address[1]
        read, write = os.pipe()
        self.server.set_app(TimedApp(write))
        connections.close_all()  # each worker opens its own; none shares this process's
        self.pids = []
        for _ in range(count):
            pid = os.fork()
            if pid == 0:  # a worker: serve until killed, never return into the bench
                try:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    os.close(read)
                    self.server.serve_forever()
                finally:
                    os._exit(0)
            self.pids.append(pid)
        os.close(write)
        self.times: list[float] = []
        self.cpu: list[float] = []
        self._reader = threading.Thread(target=self._read, args=(read,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                wall, cpu = line.split()
                self.cpu.append(float(cpu))  # first: times is what take_times waits on
                self.times.append(float(wall))

    def take_times(self, expected: int) -> tuple[list[float], list[float]]:
        """The server and CPU times of the last ``expected`` requests (each is written
        before its response is sent, so they are in the pipe once the clients have their
        answers)."""
        deadline = time.monotonic() + 30
        while len(self.times) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        taken, self.times[:] = list(self.times), []
        cpu, self.cpu[:] = list(self.cpu), []
        return taken, cpu

    def backends(self) -> list[int]:
        """The PostgreSQL backend processes of the workers' connections (every other
        connection to the bench database: the bench's own is excluded)."""
        if connection.vendor != "postgresql":
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]

    def stop(self) -> None:
        for pid in self.pids:
            os.kill(pid, signal.SIGTERM)
        for pid in self.pids:
            os.waitpid(pid, 0)
        self.server.server_close()
        self._reader.join(timeout=10)


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU of these processes (Linux ``/proc``); None where it cannot be read
    (another OS, or a database server on another machine)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def clients(
    port: int, requests: list[tuple[str, bytes, dict]], clients: int, rate: float | None = None
) -> float:
    """Send ``requests`` from ``clients`` threads, each waiting for its answer before the
    next: as fast as they can, or paced to ``rate`` requests per second in all (a steady
    load; a client behind its schedule sends at once). Wall seconds."""
    failures: list[str] = []
    shares = [requests[i::clients] for i in range(clients)]
    began = time.perf_counter()

    def work(n: int, share) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            for k, (path, body, headers) in enumerate(share):
                if rate:  # client n sends its k-th at (k * clients + n) / rate
                    delay = began + (k * clients + n) / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status not in (200, 202):
                    failures.append(f"{path} answered {response.status}")
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n, sh)) for n, sh in enumerate(shares) if sh]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"bench: {len(failures)} live requests failed, e.g. {failures[0]}")
    return seconds


def ms(times: list[float], q: float = 0.5) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0
