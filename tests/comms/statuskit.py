"""What the status page tests build on: a policy, public and internal services, incidents
declared through the incident services, customer notices as the notices' publish leaves them.
Plain functions (not fixtures), so each test file says what it uses."""

from datetime import UTC, datetime, timedelta

from comms.models import Audience, Notice
from incidents import services as incident_services
from incidents.models import Incident
from ircore.models import Service, Severity

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def severity(key: str = "SEV-2", rank: int = 2) -> Severity:
    return Severity.objects.get_or_create(key=key, defaults={"rank": rank, "name": key})[0]


def service(name: str, *, public: bool = True, public_name: str = "", tier: int = 2) -> Service:
    slug = name.lower().replace(" ", "-")
    return Service.objects.create(
        name=name, slug=slug, public=public, public_name=public_name, tier=tier
    )


def declare(*services: Service, title: str = "Payments failing", now=None, **kwargs) -> Incident:
    return incident_services.incident_declare(
        title=title, severity=severity(), services=services, now=now or T0, **kwargs
    )


def publish_notice(
    incident: Incident,
    subject: str,
    body: str = "We are looking into it.",
    *,
    components=(),
    audience: str = Audience.CUSTOMERS,
    published_at: datetime | None = None,
    status: str = Notice.Status.PUBLISHED,
) -> Notice:
    """A notice in the state ``comms.services.notices.publish`` leaves it in."""
    notice = Notice.objects.create(
        incident=incident,
        audience=audience,
        subject=subject,
        body=body,
        status=status,
        published_at=(published_at or T0) if status == Notice.Status.PUBLISHED else None,
    )
    notice.components.set(components)
    return notice
