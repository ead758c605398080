"""Notifications against real local servers: an HTTP server for chat and webhooks, an SMTP
server (aiosmtpd) for email. Time is injected with ``now=``; nothing sleeps."""

import email
import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import path

from ircore import notifications
from ircore.admin.notifications import register
from ircore.errors import ConflictError, RuleError
from ircore.models import Delivery, NotificationEndpoint

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --- Real servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebServer:
    """Records every POST; answers ``status`` (or the next of ``script``) with ``reply``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.reply = b"ok"
        self.script: list[int] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                recorder.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(self.rfile.read(length)),
                    }
                )
                status = recorder.script.pop(0) if recorder.script else recorder.status
                self.send_response(status)
                self.send_header("Content-Length", str(len(recorder.reply)))
                self.end_headers()
                self.wfile.write(recorder.reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web():
    server = WebServer()
    yield server
    server.stop()


class MailSink:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [
            (env.rcpt_tos, email.message_from_bytes(env.original_content)) for env in self.envelopes
        ]


@pytest.fixture
def smtp(settings):
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield sink
    controller.stop()


@pytest.fixture
def endpoint(db, web):
    return NotificationEndpoint.objects.create(
        name="ops hook", kind=NotificationEndpoint.Kind.WEBHOOK, target=web.url()
    )


def person(make_user, username, *, email="", handle=""):
    user = make_user(username)
    user.email = email
    user.save()
    user.profile.chat_handle = handle
    user.profile.save()
    return user


# --- Sending over each channel --------------------------------------------------------------


def test_webhook_gets_json_and_delivery_is_recorded_sent(web, endpoint):
    delivery = notifications.notify_endpoint(
        endpoint=endpoint,
        subject="SEV-1 declared",
        body="Checkout is down",
        topic="incidents.incident:7",
        payload={"incident": 7, "severity": "SEV-1"},
    )
    assert delivery.status == Delivery.Status.QUEUED

    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)

    assert delivery.status == Delivery.Status.SENT
    assert delivery.sent_at == T0
    assert delivery.attempts == 1
    assert delivery.next_attempt_at is None
    assert delivery.last_error == ""
    (request,) = web.requests
    assert request["path"] == "/hook"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {
        "subject": "SEV-1 declared",
        "body": "Checkout is down",
        "link": "",
        "topic": "incidents.incident:7",
        "payload": {"incident": 7, "severity": "SEV-1"},
        "sent_at": T0.isoformat(),
    }


def test_chat_message_mentions_the_person_through_the_chat_webhook(settings, web, make_user, db):
    settings.CHAT_WEBHOOK_URL = web.url("/slack")
    alice = person(make_user, "alice", handle="@alice")

    (delivery,) = notifications.notify_user(
        user=alice, subject="You are paged", body="INC-7 needs you"
    )
    assert (delivery.channel, delivery.target, delivery.recipient) == ("chat", "@alice", alice)

    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)

    assert delivery.status == Delivery.Status.SENT
    (request,) = web.requests
    assert request["path"] == "/slack"
    assert request["json"] == {"text": "@alice *You are paged*\nINC-7 needs you"}


def test_chat_endpoint_posts_text_to_its_own_webhook(web, db):
    channel = NotificationEndpoint.objects.create(
        name="#incidents", kind=NotificationEndpoint.Kind.CHAT, target=web.url("/channel")
    )
    delivery = notifications.notify_endpoint(endpoint=channel, subject="Resolved", body="")

    assert notifications.deliver(delivery_id=delivery.pk, now=T0).status == "sent"
    assert web.requests[0]["path"] == "/channel"
    assert web.requests[0]["json"] == {"text": "*Resolved*"}


def test_email_is_received_by_the_smtp_server(smtp, make_user, db, settings):
    bob = person(make_user, "bob", email="bob@example.com")

    (delivery,) = notifications.notify_user(user=bob, subject="Postmortem due", body="Friday")
    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)

    assert delivery.status == Delivery.Status.SENT
    ((recipients, message),) = smtp.messages()
    assert recipients == ["bob@example.com"]
    assert message["Subject"] == "Postmortem due"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message.get_payload().strip() == "Friday"


def test_person_with_email_and_chat_gets_both(settings, smtp, web, make_user, db):
    settings.CHAT_WEBHOOK_URL = web.url()
    carol = person(make_user, "carol", email="carol@example.com", handle="@carol")

    rows = notifications.notify_user(user=carol, subject="Paged", body="INC-9")
    assert [(d.channel, d.target) for d in rows] == [
        ("email", "carol@example.com"),
        ("chat", "@carol"),
    ]

    assert notifications.send_due(now=T0) == 2
    assert {d.status for d in Delivery.objects.all()} == {"sent"}
    assert smtp.messages()[0][0] == ["carol@example.com"]
    assert web.requests[0]["json"]["text"].startswith("@carol ")


def test_raw_address_email_is_sent(smtp, db):
    delivery = notifications.notify_email(
        address="finance@example.com", subject="Impact over 100,000", body="INC-3"
    )
    assert notifications.deliver(delivery_id=delivery.pk, now=T0).status == "sent"
    assert smtp.messages()[0][0] == ["finance@example.com"]


def test_malformed_raw_address_is_a_failed_row_with_the_reason(db):
    delivery = notifications.notify_email(address="finance at example", subject="x", body="y")
    assert delivery.status == Delivery.Status.FAILED
    assert "not a valid email address" in delivery.last_error


# --- Failures, backoff and retries ----------------------------------------------------------


def test_http_500_is_retried_with_backoff_then_sent_by_send_due(web, endpoint):
    web.status = 500
    web.reply = b"database unavailable" + b"x" * 500
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")

    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)

    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.attempts == 1
    assert delivery.last_error == "HTTP 500: " + ("database unavailable" + "x" * 500)[:200]
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)

    # Not due yet: the reconciler leaves it alone.
    assert notifications.send_due(now=T0 + timedelta(seconds=59)) == 0
    assert len(web.requests) == 1

    web.status = 200
    assert notifications.send_due(now=T0 + timedelta(minutes=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 2
    assert delivery.last_error == ""
    assert delivery.sent_at == T0 + timedelta(minutes=1)
    assert len(web.requests) == 2


def test_attempts_exhausted_end_in_failed(web, endpoint, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 6
    web.status = 503
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    now = T0
    waits = []
    for _ in range(5):
        delivery = notifications.deliver(delivery_id=delivery.pk, now=now)
        assert delivery.status == Delivery.Status.RETRYING
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]

    delivery = notifications.deliver(delivery_id=delivery.pk, now=now)

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 6
    assert delivery.next_attempt_at is None
    assert delivery.last_error == "HTTP 503: ok"
    assert notifications.send_due(now=now + timedelta(days=1)) == 0
    assert len(web.requests) == 6


def test_backoff_doubles_and_is_capped_at_an_hour():
    assert [notifications.retry_backoff(n) for n in (1, 2, 3, 6, 7, 50)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=32),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_connection_refused_is_recorded_for_retry(db):
    closed = NotificationEndpoint.objects.create(
        name="gone", kind="webhook", target=f"http://127.0.0.1:{free_port()}/hook"
    )
    delivery = notifications.notify_endpoint(endpoint=closed, subject="s", body="b")

    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)

    assert delivery.status == Delivery.Status.RETRYING
    assert "Connection refused" in delivery.last_error
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)


def test_smtp_refusal_is_a_failed_attempt(settings, db):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    delivery = notifications.notify_email(address="a@example.com", subject="s", body="b")

    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)

    assert delivery.status == Delivery.Status.RETRYING
    assert "ConnectionRefusedError" in delivery.last_error


def test_redirect_is_a_failure_not_a_silent_get(web, endpoint):
    web.status = 302
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)
    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.last_error.startswith("HTTP 302")


def test_retry_now_requeues_a_failed_delivery_keeping_attempts(web, endpoint, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    web.status = 500
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    delivery = notifications.deliver(delivery_id=delivery.pk, now=T0)
    assert delivery.status == Delivery.Status.FAILED

    delivery = notifications.retry_now(delivery=delivery)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("queued", 1, None)

    web.status = 200
    assert notifications.send_due(now=T0) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)

    with pytest.raises(ConflictError, match="Only failed deliveries can be retried"):
        notifications.retry_now(delivery=delivery)


# --- Idempotency and double-send guards -----------------------------------------------------


def test_same_dedupe_key_creates_nothing_new(settings, web, make_user, db):
    settings.CHAT_WEBHOOK_URL = web.url()
    dave = person(make_user, "dave", email="dave@example.com", handle="@dave")

    first = notifications.notify_user(user=dave, subject="Paged", body="1", dedupe_key="page:1")
    again = notifications.notify_user(user=dave, subject="Paged", body="2", dedupe_key="page:1")

    assert [d.pk for d in again] == [d.pk for d in first]
    assert sorted(Delivery.objects.values_list("dedupe_key", flat=True)) == [
        "page:1:chat",
        "page:1:email",
    ]
    endpoint = NotificationEndpoint.objects.create(name="h", kind="webhook", target=web.url())
    one = notifications.notify_endpoint(endpoint=endpoint, subject="a", body="", dedupe_key="k")
    two = notifications.notify_endpoint(endpoint=endpoint, subject="a", body="", dedupe_key="k")
    assert one.pk == two.pk
    assert Delivery.objects.count() == 3


def test_send_due_ignores_deliveries_not_yet_due(web, endpoint):
    later = notifications.notify_endpoint(endpoint=endpoint, subject="later", body="")
    Delivery.objects.filter(pk=later.pk).update(next_attempt_at=T0 + timedelta(minutes=5))
    now = notifications.notify_endpoint(endpoint=endpoint, subject="now", body="")

    assert notifications.send_due(now=T0) == 1

    assert [r["json"]["subject"] for r in web.requests] == ["now"]
    later.refresh_from_db()
    assert later.status == Delivery.Status.QUEUED
    assert later.attempts == 0
    assert Delivery.objects.get(pk=now.pk).status == Delivery.Status.SENT


def test_a_sent_delivery_is_not_sent_again(web, endpoint):
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    notifications.deliver(delivery_id=delivery.pk, now=T0)

    again = notifications.deliver(delivery_id=delivery.pk, now=T0 + timedelta(hours=1))

    assert again.status == Delivery.Status.SENT
    assert again.attempts == 1
    assert again.sent_at == T0
    assert len(web.requests) == 1


def test_claimed_delivery_is_left_alone_until_its_lease_ends(web, endpoint):
    """A worker that claimed a row and died mid-send: nobody else sends it during the lease,
    and the reconciler sends it once the lease is over."""
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    _, claimed = notifications._claim(delivery.pk, T0)  # the worker that then dies
    assert claimed

    assert notifications.deliver(delivery_id=delivery.pk, now=T0).attempts == 1
    assert notifications.send_due(now=T0 + timedelta(minutes=4)) == 0
    assert web.requests == []

    assert notifications.send_due(now=T0 + timedelta(minutes=5)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(web.requests) == 1


def test_attempt_that_never_finished_counts_towards_the_limit(web, endpoint, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    notifications._claim(delivery.pk, T0)  # the worker dies mid-send, once too often

    assert notifications.send_due(now=T0 + timedelta(hours=1)) == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "never finished" in delivery.last_error
    assert web.requests == []


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: PostgreSQL (SQLite locks the db)"
)
@pytest.mark.django_db(transaction=True)
def test_row_locked_by_another_worker_is_skipped(web):
    # Written directly: the service would enqueue a real task on commit in this committed test.
    delivery = Delivery.objects.create(channel="webhook", target=web.url(), subject="s", body="b")
    result = {}
    # Another worker holds the row lock while this one tries to deliver.
    with transaction.atomic():
        Delivery.objects.select_for_update().get(pk=delivery.pk)

        def other_worker():
            try:
                result["delivery"] = notifications.deliver(delivery_id=delivery.pk, now=T0)
            finally:
                connection.close()

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=10)
    assert result["delivery"].attempts == 0
    assert web.requests == []


# --- Nothing lost silently ------------------------------------------------------------------


def test_user_without_email_or_chat_gets_a_failed_delivery_saying_why(make_user, db):
    erin = person(make_user, "erin")

    (delivery,) = notifications.notify_user(user=erin, subject="Paged", body="INC-1")

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.recipient == erin
    assert delivery.last_error == "erin has no email address and no chat handle."
    assert notifications.send_due(now=T0) == 0


def test_chat_handle_without_chat_webhook_is_explained(settings, make_user, db):
    settings.CHAT_WEBHOOK_URL = ""
    fred = person(make_user, "fred", handle="@fred")

    (delivery,) = notifications.notify_user(user=fred, subject="Paged", body="")

    assert delivery.status == Delivery.Status.FAILED
    assert "CHAT_WEBHOOK_URL is not set" in delivery.last_error


def test_inactive_endpoint_gets_a_failed_delivery(web, endpoint):
    endpoint.active = False
    endpoint.save()
    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    assert delivery.status == Delivery.Status.FAILED
    assert "inactive" in delivery.last_error
    assert web.requests == []


def test_bad_subject_is_refused_and_nothing_is_written(endpoint):
    with pytest.raises(RuleError) as exc:
        notifications.notify_endpoint(endpoint=endpoint, subject="  \n ", body="b")
    assert exc.value.field == "subject"
    assert not Delivery.objects.exists()


def test_a_link_that_is_not_an_absolute_url_is_left_out_and_logged(endpoint, caplog):
    """Links come from SITE_URL: a bad one must not block the caller's work (an impact update)."""
    for link in ("/admin/incidents/incident/7/change/", "javascript:alert(1)", "file:///x"):
        delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="", link=link)
        assert delivery.status == Delivery.Status.QUEUED
        assert "link" not in delivery.payload
        assert f"Notification link {link!r} is not an absolute http(s) URL" in caplog.text


def test_endpoint_target_must_fit_its_kind(db):
    for kind, target in [("webhook", "file:///etc/passwd"), ("chat", "hooks"), ("email", "x@")]:
        with pytest.raises(ValidationError) as exc:
            NotificationEndpoint(name="n", kind=kind, target=target).full_clean()
        assert "target" in exc.value.message_dict
    NotificationEndpoint(name="n", kind="email", target="ops@example.com").full_clean()


# --- The enqueue path -----------------------------------------------------------------------


def test_commit_enqueues_the_task_which_sends(
    settings, web, endpoint, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
        assert web.requests == []  # nothing leaves before the commit

    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(web.requests) == 1


def test_beat_task_sends_what_is_due(web, endpoint):
    from ircore.tasks import send_due_deliveries

    delivery = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="b")
    assert send_due_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


# --- Admin ----------------------------------------------------------------------------------

site = admin.AdminSite(name="admin")
register(site)
urlpatterns = [path("admin/", site.urls)]


@pytest.fixture
def notifications_admin(settings):
    settings.ROOT_URLCONF = __name__


def test_delivery_log_lists_and_retries(
    notifications_admin, admin_client, web, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    web.status = 500
    failed = notifications.notify_endpoint(endpoint=endpoint, subject="broken", body="")
    Delivery.objects.filter(pk=failed.pk).update(status="failed", last_error="HTTP 500: no")

    page = admin_client.get("/admin/ircore/delivery/", {"status__exact": "failed"})
    assert page.status_code == 200
    assert b"HTTP 500: no" in page.content
    assert admin_client.get("/admin/ircore/delivery/add/").status_code == 403
    assert admin_client.get(f"/admin/ircore/delivery/{failed.pk}/change/").status_code == 200

    web.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/ircore/delivery/",
            {"action": "retry_now", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert "Queued 1 delivery again." in [str(m) for m in response.context["messages"]]
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.SENT


def test_delivery_log_costs_the_same_queries_at_any_size(
    notifications_admin, admin_client, django_user_model, django_assert_num_queries, db
):
    def page_with(rows: int) -> None:
        for i in range(Delivery.objects.count(), rows):
            user = django_user_model.objects.create(username=f"u{i}", email=f"u{i}@example.com")
            notifications.notify_user(user=user, subject="s", body="b")
        # session, user, profile (time-zone middleware), COUNT for the paginator, the page of
        # rows with recipients joined; no second full-table count, no query per row.
        with django_assert_num_queries(5):
            assert admin_client.get("/admin/ircore/delivery/").status_code == 200

    page_with(2)
    page_with(40)


def test_endpoint_test_message_action(
    notifications_admin, admin_client, web, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/ircore/notificationendpoint/",
            {"action": "send_test_message", "_selected_action": [endpoint.pk]},
            follow=True,
        )
    assert response.status_code == 200
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.topic, delivery.status) == ("test", Delivery.Status.SENT)
    assert web.requests[0]["json"]["subject"].startswith("Test message")


def test_retry_action_needs_the_retry_permission(notifications_admin, client, make_user, db):
    viewer = make_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(viewer)
    page = client.get("/admin/ircore/delivery/")
    assert page.status_code == 200
    assert b"retry_now" not in page.content

    viewer.user_permissions.add(Permission.objects.get(codename="retry_delivery"))
    assert b"retry_now" in client.get("/admin/ircore/delivery/").content


# --- Keys of any length ---------------------------------------------------------------------

# A valid address of 190 characters: threshold keys embed it (defect 5 of issue 6).
LONG_ADDRESS = "a" * 60 + "@" + "b" * 60 + "." + "c" * 60 + ".example"


def test_a_key_too_long_for_the_column_is_stored_as_its_digest_and_still_dedupes(endpoint):
    assert len(LONG_ADDRESS) > 150
    assert NotificationEndpoint.target_problem("email", LONG_ADDRESS) == ""
    key = f"threshold:1:2:email:{LONG_ADDRESS}"

    first = notifications.notify_email(address=LONG_ADDRESS, subject="s", body="", dedupe_key=key)
    again = notifications.notify_email(address=LONG_ADDRESS, subject="s", body="", dedupe_key=key)
    other = notifications.notify_email(
        address=LONG_ADDRESS, subject="s", body="", dedupe_key=key + "x"
    )

    assert first.pk == again.pk != other.pk
    assert first.status == Delivery.Status.QUEUED and first.target == LONG_ADDRESS
    assert first.dedupe_key.startswith("sha256:") and first.dedupe_key.endswith(":email")
    assert len(first.dedupe_key) == len(other.dedupe_key) == len("sha256:") + 64 + len(":email")
    # A key that fits is stored as it is, as before.
    short = notifications.notify_endpoint(endpoint=endpoint, subject="s", body="", dedupe_key="k")
    assert short.dedupe_key == "k:webhook"


# --- Links to the page a message is about ---------------------------------------------------

LINK = "https://ir.example.com/admin/incidents/incident/7/change/"


def test_every_channel_renders_the_link(settings, smtp, web, make_user, db):
    settings.CHAT_WEBHOOK_URL = web.url("/slack")
    erin = person(make_user, "erin", email="erin@example.com", handle="@erin")
    hook = NotificationEndpoint.objects.create(name="h", kind="webhook", target=web.url("/hook"))

    notifications.notify_user(user=erin, subject="Paged", body="INC-7 needs you\n", link=LINK)
    notifications.notify_endpoint(
        endpoint=hook, subject="Paged", body="INC-7", payload={"incident": 7}, link=LINK
    )
    assert notifications.send_due(now=T0) == 3

    ((_, message),) = smtp.messages()
    assert message.get_payload().strip().splitlines() == ["INC-7 needs you", "", LINK]
    chat, webhook = sorted(web.requests, key=lambda r: r["path"])[::-1]
    assert chat["json"] == {"text": f"@erin *Paged*\nINC-7 needs you\n\n{LINK}"}
    assert webhook["json"]["link"] == LINK
    assert webhook["json"]["payload"] == {"incident": 7, "link": LINK}


def test_a_message_with_no_body_is_its_link(smtp, make_user, db):
    finn = person(make_user, "finn", email="finn@example.com")
    notifications.notify_user(user=finn, subject="Resolved", body="", link=LINK)
    assert notifications.send_due(now=T0) == 1
    ((_, message),) = smtp.messages()
    assert message.get_payload().strip() == LINK


def test_absolute_url_joins_site_url_and_keeps_its_prefix(settings):
    from ircore.links import absolute_url

    settings.SITE_URL = "https://ir.example.com"
    assert absolute_url("/admin/x/") == "https://ir.example.com/admin/x/"
    settings.SITE_URL = "https://example.com/ir/"
    assert absolute_url("/admin/x/") == "https://example.com/ir/admin/x/"
    assert absolute_url("admin/x/") == "https://example.com/ir/admin/x/"
    assert absolute_url(LINK) == LINK
