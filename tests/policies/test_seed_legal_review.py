"""Which incident types need a legal reviewer before their notices go out
(``IncidentType.legal_review_required``), per seed process, quoted from its document
(``/work/shared/seeds/``), and what the policy file does with the flag."""

from pathlib import Path

import pytest

from ircore import policy
from ircore.models import IncidentType

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def flagged(name: str) -> set[str]:
    policy.import_policy(policy.load_policy_file(POLICIES / name))
    flagged_types = IncidentType.objects.filter(legal_review_required=True)
    return set(flagged_types.values_list("key", flat=True))


def test_default_flags_data_loss_security_and_privacy(db):
    # 001_* Security Incident Procedures: "Legal team involvement"; 000_*: "Need customer
    # communication -> Product manager approval + Legal review if data loss".
    assert flagged("default.yaml") == {
        "data-loss-or-corruption",
        "security-breach",
        "data-privacy-incident",
    }


def test_fintech_flags_data_integrity_and_security(db):
    # 000_*: "+ Legal review if data loss"; "Need to take customer data offline -> CTO +
    # General Counsel" (a security investigation).
    assert flagged("fintech.yaml") == {"data-loss-or-corruption", "security-breach"}


def test_p0_p3_flags_data_loss_security_and_privacy(db):
    # 001_* "Legal team involvement" (security), GDPR requirements (privacy).
    assert flagged("p0-p3.yaml") == {
        "data-loss-or-corruption",
        "security-breach",
        "data-privacy-incident",
    }


def test_notification_service_flags_breach_compliance_and_security(db):
    # 003_*: "Legal consultation for GDPR/CCPA notification requirements" (data breach);
    # a compliance violation: "consult legal".
    assert flagged("notification-service.yaml") == {
        "data-privacy-incident",
        "compliance-violation",
        "security-breach",
    }


def test_supply_chain_finance_flags_security_and_data_integrity(db):
    assert flagged("supply-chain-finance.yaml") == {"security-breach", "data-loss-or-corruption"}


def test_outages_and_slowness_never_need_legal_review(db):
    for path in sorted(POLICIES.glob("*.yaml")):
        document = policy.load_policy_file(path)
        for entry in document.get("incident_types", []):
            if entry["key"] in ("service-outage", "performance-degradation"):
                assert entry["legal_review_required"] is False, (path.name, entry["key"])


def test_the_flag_round_trips_and_an_older_file_without_it_means_no(db):
    policy.import_policy(policy.load_policy_file(POLICIES / "default.yaml"))
    exported = {t["key"]: t for t in policy.export_policy()["incident_types"]}
    assert exported["security-breach"]["legal_review_required"] is True
    assert exported["service-outage"]["legal_review_required"] is False

    # A file written before the flag existed: the types it lists need no legal review.
    policy.import_policy(
        {"version": 1, "incident_types": [{"key": "security-breach", "name": "Security Breach"}]}
    )
    assert IncidentType.objects.get(key="security-breach").legal_review_required is False


def test_a_flag_that_is_not_true_or_false_is_refused_naming_it(db):
    document = {
        "version": 1,
        "incident_types": [{"key": "breach", "name": "Breach", "legal_review_required": "yes"}],
    }
    with pytest.raises(policy.PolicyError) as refused:
        policy.import_policy(document)
    assert 'incident_types[0] (breach).legal_review_required: "yes" is not true or false' in str(
        refused.value
    )
    assert not IncidentType.objects.exists()
