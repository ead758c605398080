"""The user picker behind user autocomplete fields (defect 8), through Django's real
``/admin/autocomplete/`` endpoint; the threshold "nobody is notified" warning (defect 6,
admin side); and the policy import gated by the verb table."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from ircore import policy, verbs
from ircore.models import FinancialThreshold
from tests.ircore.test_admin_smoke import POLICY

AUTOCOMPLETE = reverse("admin:autocomplete")


@pytest.fixture
def people(cast, django_user_model):
    """Beside the cast: a colleague with a name, an inactive account and a superuser, each
    with an address of their own."""
    create = django_user_model.objects.create_user
    create("kim", first_name="Kim", last_name="Lee", email="kim.lee@corp.example")
    create("gone", is_active=False, email="gone@corp.example")
    django_user_model.objects.create_superuser("root", email="root@corp.example", password="x")
    return cast


def pick(client, user, *, term="", model="ircore.team", field="lead"):
    app_label, model_name = model.split(".")
    client.force_login(user)
    return client.get(
        AUTOCOMPLETE,
        {"app_label": app_label, "model_name": model_name, "field_name": field, "term": term},
    )


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["text"] for row in response.json()["results"]}


def test_a_responder_cannot_search_users_through_a_field_that_is_no_autocomplete(client, people):
    """The hole: responders may add incidents, whose ``created_by`` points at users but is
    no autocomplete field; naming it listed every account, searchable by e-mail."""
    response = pick(client, people.responder, model="incidents.incident", field="created_by")
    assert response.status_code == 403
    response = pick(
        client,
        people.responder,
        term="corp.example",
        model="incidents.incident",
        field="created_by",
    )
    assert response.status_code == 403


def test_a_responder_cannot_pick_for_a_model_they_may_not_change(client, people):
    assert pick(client, people.responder).status_code == 403  # a team's lead: managers only


def test_a_many_to_many_field_is_no_picker_either(client, people):
    assert pick(client, people.manager, field="members").status_code == 403


def test_a_manager_picks_among_active_accounts_by_name(client, people):
    listed = names(pick(client, people.manager))
    assert listed == {"mia", "rob", "sue", "leo", "oscar", "kim"}  # not "gone", not "root"

    assert names(pick(client, people.manager, term="Kim")) == {"kim"}
    assert names(pick(client, people.manager, term="Lee")) == {"kim"}
    assert names(pick(client, people.manager, term="gone")) == set()
    assert names(pick(client, people.manager, term="root")) == set()


def test_a_manager_cannot_probe_e_mail_addresses(client, people):
    for term in ("kim.lee@corp.example", "corp.example", "@example.com"):
        response = pick(client, people.manager, term=term)
        assert names(response) == set()
        assert "@" not in response.content.decode()


def test_a_superuser_picks_among_every_active_account_and_may_search_addresses(client, people):
    root = type(people.manager).objects.get(username="root")
    assert "root" in names(pick(client, root))
    assert names(pick(client, root, term="kim.lee@corp.example")) == {"kim"}
    assert "gone" not in names(pick(client, root))


def test_the_picker_opens_no_user_account(client, people):
    client.force_login(people.manager)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    kim = type(people.manager).objects.get(username="kim")
    assert client.get(reverse("admin:auth_user_change", args=[kim.pk])).status_code == 403


# --- Thresholds that notify nobody ---


@pytest.fixture
def thresholds(cast):
    policy.import_policy(policy.load_policy_file(POLICY))
    routed = FinancialThreshold.objects.get(amount=10000)
    routed.notify_emails = "finance@example.com"
    routed.save()
    FinancialThreshold.objects.get(amount=5000).notify_users.add(cast.manager)
    return cast


def test_the_threshold_list_warns_which_thresholds_notify_nobody(client, thresholds):
    client.force_login(thresholds.manager)
    response = client.get(reverse("admin:ircore_financialthreshold_changelist"))

    warnings = [str(m) for m in response.context["messages"]]
    assert warnings == [
        "Nobody is notified when an incident crosses 1,000, 25,000, 50,000, 100,000: "
        "those thresholds have no users to notify and no e-mail addresses."
    ]
    page = re.sub(r"\s+", " ", response.content.decode())
    assert page.count("⚠ Nobody") == 4
    assert '<td class="field-recipients">1 user</td>' in page
    assert '<td class="field-recipients">1 address</td>' in page


def test_the_change_page_of_a_threshold_nobody_hears_warns(client, thresholds):
    client.force_login(thresholds.manager)
    nobody = FinancialThreshold.objects.get(amount=25000)
    response = client.get(reverse("admin:ircore_financialthreshold_change", args=[nobody.pk]))
    assert [str(m) for m in response.context["messages"]] == [
        "Nobody is notified when an incident crosses 25,000 (Executive team): it has no users "
        "to notify and no e-mail addresses. Add at least one, or the crossing is only recorded."
    ]

    routed = FinancialThreshold.objects.get(amount=10000)
    response = client.get(reverse("admin:ircore_financialthreshold_change", args=[routed.pk]))
    assert list(response.context["messages"]) == []


# --- Import permission through the verb table ---


def test_import_follows_the_verb_table(client, make_user):
    """``ircore.import_policy`` alone was enough before; the verb also needs to read the
    severities it replaces, and the admin asks the verb."""
    partial = make_user("half")
    partial.user_permissions.add(Permission.objects.get(codename="import_policy"))
    partial = type(partial).objects.get(pk=partial.pk)
    assert not verbs.may(partial, "import_policy")

    client.force_login(partial)
    assert client.get(reverse("admin:ircore_severity_policy_import")).status_code == 403

    partial.user_permissions.add(Permission.objects.get(codename="view_severity"))
    partial = type(partial).objects.get(pk=partial.pk)
    assert verbs.may(partial, "import_policy")
    assert client.get(reverse("admin:ircore_severity_policy_import")).status_code == 200
    page = client.get(reverse("admin:ircore_severity_changelist")).content.decode()
    assert 'href="/admin/ircore/severity/policy/import/"' in page
