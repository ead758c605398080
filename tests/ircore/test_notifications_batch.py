"""A slow reconciler batch (dead endpoints timing out) outlasts a claim's lease: each claim must
be leased on the clock at its own turn, or the next tick on another worker sends it again."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import connection

from ircore import notifications
from ircore.models import Delivery, NotificationEndpoint

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_a_slow_batch_does_not_let_a_second_worker_resend(settings):
    settings.NOTIFY_HTTP_TIMEOUT = 10.0  # lease = max(300, 60) = 300 s
    received = []
    state = {"traveller": None, "concurrent_attempted": None}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body["subject"])
            n = len(received)
            if body["subject"] == "slow" and n == 1:
                # The first message of the batch takes 400 s (e.g. a hanging endpoint, or
                # many 10 s timeouts before it): the clock moves on.
                state["traveller"].shift(timedelta(seconds=400))
            elif body["subject"] == "second" and state["concurrent_attempted"] is None:
                # While worker A is sending "second", the next beat tick runs on worker B.
                try:
                    state["concurrent_attempted"] = notifications.send_due()
                finally:
                    connection.close()
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        ep = NotificationEndpoint.objects.create(name="hook", kind="webhook", target=url)
        notifications.notify_endpoint(endpoint=ep, subject="slow", body="")
        notifications.notify_endpoint(endpoint=ep, subject="second", body="")
        with time_machine.travel(T0, tick=False) as traveller:
            state["traveller"] = traveller
            attempted = notifications.send_due()  # worker A's beat tick
        assert attempted == 2
        assert state["concurrent_attempted"] == 0  # worker B found both claimed
        assert received == ["slow", "second"]
        second = Delivery.objects.get(subject="second")
        assert (second.status, second.attempts) == (Delivery.Status.SENT, 1)
        assert second.sent_at == T0 + timedelta(seconds=400)
    finally:
        server.shutdown()
        server.server_close()
