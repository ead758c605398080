"""Signed acknowledge links: one person, one incident, one page, for a limited time.

The token is checked without the database here (a stand-in page carries the three ids); the
database side (``ack_link_resolve``) and the view are in test_contact_ack.py.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import signing

from oncall import acklinks
from oncall.acklinks import AckLinkRefused, ack_link_read, ack_link_verify, ack_token

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def page(pk=7, recipient_id=3, incident_id=11):
    return SimpleNamespace(pk=pk, recipient_id=recipient_id, incident_id=incident_id)


def refused(token, **kwargs) -> str:
    with pytest.raises(AckLinkRefused) as caught:
        ack_link_verify(token, **kwargs)
    return caught.value.reason


def test_a_fresh_token_names_its_page_person_and_incident():
    claim = ack_link_read(ack_token(page=page(), now=NOW), now=NOW + timedelta(minutes=3))
    assert (claim.page_id, claim.user_id, claim.incident_id) == (7, 3, 11)
    assert claim.issued_at == NOW


def test_the_token_is_url_safe_and_short():
    token = ack_token(page=page(), now=NOW)
    assert len(token) < 200
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:")


@pytest.mark.parametrize("position", [0, 10, -10, -1])
def test_a_changed_character_is_refused(position):
    token = ack_token(page=page(), now=NOW)
    index = position % len(token)
    swapped = "A" if token[index] != "A" else "B"
    tampered = token[:index] + swapped + token[index + 1 :]
    assert refused(tampered, now=NOW) == "invalid"


def test_a_truncated_token_is_refused():
    token = ack_token(page=page(), now=NOW)
    assert refused(token[:-1], now=NOW) == "invalid"
    assert refused(token.rsplit(":", 1)[0], now=NOW) == "invalid"


def test_a_payload_edited_to_another_person_is_refused_even_if_well_formed():
    token = ack_token(page=page(), now=NOW)
    forged_payload = signing.Signer(salt=acklinks.SALT).sign_object(
        {"p": 7, "u": 4, "i": 11, "t": int(NOW.timestamp())}
    )
    # Someone's payload with the original signature: the signature no longer matches.
    forged = forged_payload.rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]
    assert refused(forged, now=NOW) == "invalid"


def test_a_token_signed_for_something_else_is_refused():
    payload = {"p": 7, "u": 3, "i": 11, "t": int(NOW.timestamp())}
    assert refused(signing.Signer(salt="other").sign_object(payload), now=NOW) == "invalid"
    assert refused(signing.dumps(payload), now=NOW) == "invalid"


@pytest.mark.parametrize(
    "payload",
    [
        {"p": 7, "u": 3, "i": 11},  # no issue time
        {"p": "7", "u": 3, "i": 11, "t": 1},  # ids are integers
        {"p": 0, "u": 3, "i": 11, "t": 1},
        {"p": True, "u": 3, "i": 11, "t": 1},
        [7, 3, 11, 1],
        {"p": 7, "u": 3, "i": 11, "t": 10**20},  # no such time
    ],
)
def test_a_correctly_signed_but_malformed_payload_is_refused(payload):
    token = signing.Signer(salt=acklinks.SALT).sign_object(payload)
    assert refused(token, now=NOW) == "invalid"


@pytest.mark.parametrize("junk", ["", "x", "a:b", "a" * 1000, ":::", "\x00"])
def test_junk_is_refused(junk):
    assert refused(junk, now=NOW) == "invalid"


def test_a_token_expires_after_the_configured_age(settings):
    settings.ACK_LINK_MAX_AGE = 3600
    token = ack_token(page=page(), now=NOW)
    assert ack_link_verify(token, now=NOW + timedelta(minutes=60)).page_id == 7
    assert refused(token, now=NOW + timedelta(minutes=60, seconds=1)) == "expired"


def test_the_default_age_is_a_day(settings):
    del settings.ACK_LINK_MAX_AGE
    token = ack_token(page=page(), now=NOW)
    assert ack_link_verify(token, now=NOW + timedelta(hours=24)).page_id == 7
    assert refused(token, now=NOW + timedelta(hours=24, seconds=1)) == "expired"


def test_a_token_from_the_future_is_refused():
    token = ack_token(page=page(), now=NOW + timedelta(hours=1))
    assert refused(token, now=NOW) == "invalid"


def test_another_person_incident_or_page_is_refused():
    token = ack_token(page=page(), now=NOW)
    ok = ack_link_verify(
        token,
        user=SimpleNamespace(pk=3),
        incident=SimpleNamespace(pk=11),
        page=SimpleNamespace(pk=7),
        now=NOW,
    )
    assert ok.user_id == 3
    assert refused(token, user=SimpleNamespace(pk=4), now=NOW) == "invalid"
    assert refused(token, incident=SimpleNamespace(pk=12), now=NOW) == "invalid"
    assert refused(token, page=SimpleNamespace(pk=8), now=NOW) == "invalid"


def test_another_secret_key_does_not_verify(settings):
    token = ack_token(page=page(), now=NOW)
    settings.SECRET_KEY = "another-install-" + "x" * 40
    assert refused(token, now=NOW) == "invalid"


def test_a_rotated_key_kept_as_fallback_still_verifies(settings):
    old = settings.SECRET_KEY
    token = ack_token(page=page(), now=NOW)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-" + "y" * 40, [old]
    assert ack_link_verify(token, now=NOW).page_id == 7


def test_a_page_without_recipient_gets_no_link():
    with pytest.raises(ValueError):
        ack_token(page=page(recipient_id=None), now=NOW)


def test_the_link_is_absolute_under_site_url(settings):
    settings.SITE_URL = "https://ir.example.com/base"
    url = acklinks.ack_url(page=page(), now=NOW)
    assert url.startswith("https://ir.example.com/base/oncall/ack/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert ack_link_read(token, now=NOW).page_id == 7
