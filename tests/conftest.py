import pytest
from django.contrib.auth.models import Group

from ircore import roles


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Creating users dominates setup with the real hasher; logins work the same with MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(django_user_model):
    """A staff user in the given role group (or none)."""

    def make(username: str, group: str | None = None, **extra):
        user = django_user_model.objects.create_user(
            username=username,
            password="pw-" + username,
            email=f"{username}@example.com",
            is_staff=extra.pop("is_staff", True),
            **extra,
        )
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def cast(make_user, db):
    """The fixed cast for permission tests: manager, responder, support, leader, outsider."""
    from types import SimpleNamespace

    return SimpleNamespace(
        manager=make_user("mia", roles.INCIDENT_MANAGERS),
        responder=make_user("rob", roles.RESPONDERS),
        support=make_user("sue", roles.SUPPORT),
        leader=make_user("leo", roles.LEADERSHIP),
        outsider=make_user("oscar", None, is_staff=False),
    )
