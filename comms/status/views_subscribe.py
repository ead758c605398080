"""Subscribing, confirming and unsubscribing: public pages, no login.

- Subscribing answers the same page whatever the target's state (see
  ``comms.services.subscribers``); too many requests from one address are a 429.
- A confirmation or unsubscribe link opens a page with a button: the change is a POST, so
  a mail scanner that follows links neither confirms nor unsubscribes anyone.
- A link that was altered, is not ours or is for a removed subscriber is a 400 page that
  says only that it is not valid; an expired confirmation says so and offers the form.
"""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from comms.models import Subscriber
from comms.services import subscribers
from comms.status import selectors, tokens
from comms.status.forms import SubscribeForm
from comms.status.page import page_name
from comms.status.throttle import SubscribeRateThrottle


def _context(**extra) -> dict:
    return {"page_name": page_name(), **extra}


def _forms(bound: SubscribeForm | None = None) -> dict:
    forms = {
        "email_form": SubscribeForm(initial={"kind": Subscriber.Kind.EMAIL}, prefix="email"),
        "webhook_form": SubscribeForm(initial={"kind": Subscriber.Kind.WEBHOOK}, prefix="webhook"),
    }
    if bound is not None:
        forms["webhook_form" if bound.prefix == "webhook" else "email_form"] = bound
    return forms


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method != "POST":
        return render(request, "comms/status/subscribe.html", _context(**_forms()))
    throttle = SubscribeRateThrottle()
    if not throttle.allow_request(request, None):
        minutes = max(1, round((throttle.wait() or 60) / 60))
        context = _context(throttled_minutes=minutes, **_forms())
        response = render(request, "comms/status/subscribe.html", context, status=429)
        response["Retry-After"] = str(minutes * 60)
        return response
    prefix = "webhook" if request.POST.get("webhook-kind") == Subscriber.Kind.WEBHOOK else "email"
    form = SubscribeForm(request.POST, prefix=prefix)
    if form.is_valid() and form.subscribe():
        return redirect("status-subscribe-sent")
    return render(request, "comms/status/subscribe.html", _context(**_forms(form)), status=400)


@require_safe
def subscribe_sent(request):
    return render(request, "comms/status/subscribe_sent.html", _context())


def _refused(request, refusal: tokens.LinkRefused, what: str):
    context = _context(expired=refusal.reason == tokens.LinkRefused.EXPIRED, what=what)
    return render(request, "comms/status/link_refused.html", context, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token: str):
    try:
        claim = tokens.read_confirmation(token)
    except tokens.LinkRefused as refusal:
        return _refused(request, refusal, "confirmation")
    if request.method == "POST":
        try:
            outcome = subscribers.confirm(token=token)
        except tokens.LinkRefused as refusal:
            return _refused(request, refusal, "confirmation")
        sub = outcome.subscriber
        names = (
            []
            if sub.all_components
            else selectors.component_names(sub.components.values_list("pk", flat=True))
        )
        return render(request, "comms/status/confirmed.html", _context(names=names, done=True))
    names = [] if claim.all_components else selectors.component_names(claim.component_ids)
    return render(request, "comms/status/confirm.html", _context(names=names))


@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    try:
        subscriber = subscribers.subscriber_for_unsubscribe(token)
    except tokens.LinkRefused as refusal:
        return _refused(request, refusal, "unsubscribe")
    if request.method == "POST":
        subscribers.unsubscribe(token=token)
        return render(request, "comms/status/unsubscribed.html", _context())
    return render(
        request,
        "comms/status/unsubscribe.html",
        _context(already=subscriber.unsubscribed_at is not None),
    )
