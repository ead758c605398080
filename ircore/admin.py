"""Admin for the policy (severities, types, thresholds), the catalog (teams, services) and
people (profiles, and Django's user admin with the profile inline)."""

import functools
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from simple_history.admin import SimpleHistoryAdmin

from . import policy
from .admin_notifications import register as register_notifications
from .models import (
    ChecklistTemplateItem,
    FinancialThreshold,
    Heartbeat,
    IncidentType,
    Profile,
    Service,
    Severity,
    Team,
)
from .policy import (
    DURATION_HINT,
    SEVERITY_FIELDS,
    DurationTooLong,
    format_duration,
    parse_duration,
)

# --- Form pieces ---


class HumanDurationField(forms.Field):
    """A duration typed as in the policy file ("15m", "4h", "2d", "1h30m"); empty: none."""

    widget = forms.TextInput(attrs={"placeholder": "e.g. 15m, 4h, 2d", "size": 10})

    def __init__(self, *, max_length=None, **kwargs):
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if hasattr(value, "total_seconds"):
            return format_duration(value)
        return value

    def to_python(self, value):
        try:
            return parse_duration(value)
        except DurationTooLong as exc:
            raise ValidationError(f"{exc}.", code="invalid") from None
        except ValueError:
            raise ValidationError(
                f"“{value}” is not a duration ({DURATION_HINT}).", code="invalid"
            ) from None


DURATION_OVERRIDES = {models.DurationField: {"form_class": HumanDurationField}}


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = (
            "user",
            "chat_handle",
            "phone",
            "time_zone",
            "ic_certified_on",
            "ic_certification_expires",
        )

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip()
        if value not in _time_zones():
            raise ValidationError(
                f"Time zone “{value}” is not known; use an IANA name such as Europe/London.",
                code="invalid",
            )
        return value


def _duration_column(field: str, label: str):
    @admin.display(description=label, ordering=field)
    def column(self, obj):
        return format_duration(getattr(obj, field)) or "-"

    return column


# --- The policy file, exported and imported from the severity list ---

IMPORT_POLICY_PERMISSION = "ircore.import_policy"
POLICY_UPLOAD_MAX_BYTES = 1024 * 1024
# A previewed file stays appliable this long; after that it must be uploaded again.
POLICY_PREVIEW_MAX_AGE = 60 * 60
_PREVIEW_SALT = "ircore.admin.policy-import"


@dataclass(frozen=True)
class PolicyUpload:
    """An uploaded policy file, read as text; parsing it is ``load()``'s job."""

    name: str
    fmt: str
    text: str

    def load(self) -> Any:
        """The document, or ``PolicyError`` naming why the text is not a policy file."""
        return policy.loads_policy(self.text, self.fmt, name=self.name)

    def sign(self, *, user) -> str:
        """The file as a token the preview page carries to the "Apply" step, bound to the
        user who previewed it, so the applied file is exactly the one that was shown."""
        data = {"name": self.name, "format": self.fmt, "text": self.text, "user": user.pk}
        return signing.dumps(data, salt=_PREVIEW_SALT, compress=True)

    @classmethod
    def unsign(cls, token: str, *, user) -> "PolicyUpload":
        """Raises ``signing.BadSignature`` (or its ``SignatureExpired``) if the token was
        altered, is too old, or was made for someone else."""
        data = signing.loads(token, salt=_PREVIEW_SALT, max_age=POLICY_PREVIEW_MAX_AGE)
        if data.get("user") != user.pk:
            raise signing.BadSignature("made for another user")
        return cls(name=data["name"], fmt=data["format"], text=data["text"])


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


class PolicyImportForm(forms.Form):
    DRY_RUN, APPLY = "dry_run", "apply"

    file = forms.FileField(
        label="Policy file",
        help_text=(
            f"YAML (.yaml, .yml) or JSON (.json), at most {_megabytes(POLICY_UPLOAD_MAX_BYTES)}."
        ),
        widget=forms.FileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )
    mode = forms.ChoiceField(
        label="Then",
        choices=[
            (DRY_RUN, "Dry run: show what would change, change nothing"),
            (APPLY, "Apply: import the file now if it is valid"),
        ],
        initial=DRY_RUN,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
    )

    def clean_file(self) -> PolicyUpload:
        upload = self.cleaned_data["file"]
        if upload.size > POLICY_UPLOAD_MAX_BYTES:
            raise ValidationError(
                f"The file is {upload.size:,} bytes; a policy file may be at most "
                f"{_megabytes(POLICY_UPLOAD_MAX_BYTES)} ({POLICY_UPLOAD_MAX_BYTES:,} bytes).",
                code="too_large",
            )
        try:
            fmt = policy.format_for(upload.name)
        except policy.PolicyError as exc:
            raise ValidationError(exc.problems, code="file_type") from None
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(
                f"{upload.name} is not UTF-8 text; a policy file is YAML or JSON.",
                code="not_text",
            ) from None
        return PolicyUpload(name=upload.name, fmt=fmt, text=text)


@dataclass
class SectionChanges:
    """The entries of one policy section that an import creates, changes or removes."""

    section: str
    created: list[str]
    updated: list[tuple[str, list[str]]]
    deleted: list[str]

    @property
    def title(self) -> str:
        return section_title(self.section)


def section_title(name: str) -> str:
    """``"incident_types"`` -> ``"Incident types"``, for headings."""
    return name.replace("_", " ").capitalize()


def preview_policy_import(
    *, document: Any, user: Any
) -> tuple[policy.ImportSummary, list[SectionChanges]]:
    """What importing ``document`` would do, entry by entry; changes nothing.

    The same as ``import_policy(dry_run=True)`` (the import runs and is rolled back, so
    the counts are exactly a real import's), except that the policy is exported again
    before the rollback: comparing the two exports names each entry and field that
    changes, as the file writes them. Raises ``PolicyError`` for a bad file."""
    with transaction.atomic():
        before = policy.export_policy()
        summary = policy.import_policy(document, user=user)
        after = policy.export_policy()
        transaction.set_rollback(True)
    summary.dry_run = True
    changes = [
        _section_changes(name, before[name], after[name])
        for name in summary.counts
        if name in document and name in after
    ]
    return summary, [c for c in changes if c is not None]


# Fields that name an entry, tried in order; a section without one gets counts only.
_IDENTITY_FIELDS = ("key", "slug", "name", "amount")
_LABEL_FIELDS = ("name", "audience")


def _identity(entry: Any) -> tuple[str, str] | None:
    if isinstance(entry, dict):
        for field in _IDENTITY_FIELDS:
            if entry.get(field) not in (None, ""):
                return field, str(entry[field])
    return None


def _label(entry: dict[str, Any], identity: tuple[str, str]) -> str:
    field, value = identity
    extra = next((entry[f] for f in _LABEL_FIELDS if f != field and entry.get(f)), None)
    return f"{value} ({extra})" if extra else value


def _section_changes(name: str, before: list[Any], after: list[Any]) -> SectionChanges | None:
    old = {_identity(e): e for e in before}
    new = {_identity(e): e for e in after}
    if None in old or None in new or len(old) != len(before) or len(new) != len(after):
        return None
    return SectionChanges(
        section=name,
        created=[_label(e, key) for key, e in new.items() if key not in old],
        updated=[
            (_label(e, key), _field_changes(old[key], e))
            for key, e in new.items()
            if key in old and old[key] != e
        ],
        deleted=[_label(e, key) for key, e in old.items() if key not in new],
    )


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``["ack_target: 15m → 5m", "checklist (1 added)", "definition"]``."""
    out = []
    for field in dict.fromkeys([*old, *new]):
        a, b = old.get(field), new.get(field)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            a, b = a or [], b or []
            added = sum(1 for item in b if item not in a)
            removed = sum(1 for item in a if item not in b)
            parts = [f"{added} added"] * bool(added) + [f"{removed} removed"] * bool(removed)
            out.append(f"{field} ({', '.join(parts) or 'reordered'})")
        elif len(_brief(a)) <= 40 and len(_brief(b)) <= 40:
            out.append(f"{field}: {_brief(a)} → {_brief(b)}")
        else:
            out.append(field)  # long text: which field is enough
    return out


def _brief(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- Policy ---


class ChecklistTemplateItemInline(admin.TabularInline):
    model = ChecklistTemplateItem
    fields = ("position", "text")
    ordering = ("position", "id")
    extra = 1


class SeverityForm(forms.ModelForm):
    class Meta:
        model = Severity
        # The same fields, in the same order, as a severity in the policy file.
        fields = tuple(f for f in SEVERITY_FIELDS if f != "checklist")
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}


@admin.register(Severity)
class SeverityAdmin(SimpleHistoryAdmin):
    form = SeverityForm
    list_display = (
        "key",
        "name",
        "rank",
        "swatch",
        "ack",
        "resolve",
        "page_immediately",
    )
    list_display_links = ("key", "name")
    search_fields = ("key", "name")
    ordering = ("rank",)
    inlines = (ChecklistTemplateItemInline,)
    formfield_overrides = DURATION_OVERRIDES
    fieldsets = (
        (None, {"fields": ("key", "rank", "name", "colour", "definition", "examples")}),
        (
            "Targets",
            {
                "fields": (
                    "ack_target",
                    "resolve_target",
                    "internal_update_every",
                    "customer_update_every",
                )
            },
        ),
        (
            "Who responds",
            {"fields": ("page_immediately", "who_is_paged", "executive_sponsor_required")},
        ),
        ("Postmortem", {"fields": ("postmortem_required", "postmortem_due")}),
    )

    ack = _duration_column("ack_target", "Ack target")
    resolve = _duration_column("resolve_target", "Resolve target")

    @admin.display(description="Colour", ordering="colour")
    def swatch(self, obj: Severity):
        return format_html(
            '<span style="display:inline-block;width:1em;height:1em;vertical-align:middle;'
            'border:1px solid #0004;background:{}"></span> {}',
            obj.colour,
            obj.colour,
        )

    # --- The policy file: export for readers, import for incident managers ---

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        # Ahead of the stock URLs, whose "<path:object_id>/" would swallow these.
        return [
            path("policy/export/", wrap(self.policy_export_view), name=f"{prefix}_policy_export"),
            path("policy/import/", wrap(self.policy_import_view), name=f"{prefix}_policy_import"),
            *super().get_urls(),
        ]

    def _url(self, name: str) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            current_app=self.admin_site.name,
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import_policy": request.user.has_perm(IMPORT_POLICY_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def policy_export_view(self, request):
        """The current policy as a download: YAML, or JSON with ``?format=json``."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = request.GET.get("format", "yaml")
        if fmt not in ("yaml", "json"):
            return HttpResponseBadRequest(
                'format: must be "yaml" or "json"', content_type="text/plain"
            )
        body = policy.dumps_policy(policy.export_policy(), fmt)
        media_type = "application/json" if fmt == "json" else "application/yaml"
        response = HttpResponse(body, content_type=f"{media_type}; charset=utf-8")
        filename = f"policy-{timezone.localdate():%Y-%m-%d}.{fmt}"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    def policy_import_view(self, request):
        """Upload a policy file, see what it would change, then apply it.

        1. POST with a file: validate it (size, type, text), then either preview it (dry
           run: the counts and the entries that change, nothing written) or apply it.
        2. The preview carries the file, signed, to an "Apply" button; applying validates
           it again against the database as it is then.
        A bad file shows every problem and changes nothing."""
        # Importing rewrites the whole policy: incident managers only, on GET too.
        if not request.user.has_perm(IMPORT_POLICY_PERMISSION):
            raise PermissionDenied
        form = PolicyImportForm()
        upload, mode, summary, changes, payload = None, None, None, [], ""
        heading, problems = "", []
        if request.method == "POST" and "_apply" in request.POST:
            try:
                upload = PolicyUpload.unsign(request.POST.get("payload", ""), user=request.user)
            except signing.BadSignature:
                heading = "This preview has expired or was altered; upload the file again."
            mode = PolicyImportForm.APPLY
        elif request.method == "POST":
            form = PolicyImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload, mode = form.cleaned_data["file"], form.cleaned_data["mode"]

        if upload is not None:
            try:
                document = upload.load()
                if mode == PolicyImportForm.APPLY:
                    summary = policy.import_policy(document, user=request.user)
                    self._report_import(request, upload, summary)
                    return HttpResponseRedirect(self._url("changelist"))
                summary, changes = preview_policy_import(document=document, user=request.user)
                payload = upload.sign(user=request.user)
            except policy.PolicyError as exc:
                count = len(exc.problems)
                heading = (
                    f"{upload.name} has {count} problem{'s' if count != 1 else ''}; "
                    "nothing was changed."
                )
                problems = exc.problems

        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": "Import policy",
            "form": form,
            "problem_heading": heading,
            "problems": problems,
            "upload": upload,
            "summary": summary,
            "counts": [(section_title(n), c) for n, c in summary.counts.items()] if summary else [],
            "changes": changes,
            "payload": payload,
            "export_url": self._url("policy_export"),
            "has_view_permission": self.has_view_permission(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/ircore/severity/policy_import.html", context)

    def _report_import(self, request, upload: PolicyUpload, summary: policy.ImportSummary):
        if summary.changed:
            self.message_user(
                request,
                f"Imported {upload.name}: {'; '.join(summary.lines())}.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                f"{upload.name} matches the current policy; nothing was changed.",
                messages.INFO,
            )


@admin.register(IncidentType)
class IncidentTypeAdmin(SimpleHistoryAdmin):
    list_display = ("name", "key", "regulatory_notification_hours", "security_checkpoints")
    list_filter = ("security_checkpoints",)
    search_fields = ("key", "name")
    prepopulated_fields = {"key": ("name",)}


class FinancialThresholdForm(forms.ModelForm):
    class Meta:
        model = FinancialThreshold
        fields = ("amount", "audience", "notify_users", "notify_emails")

    def clean_notify_emails(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["notify_emails"].splitlines()]
        lines = [line for line in lines if line]
        for line in lines:
            try:
                validate_email(line)
            except ValidationError:
                raise ValidationError(
                    f"“{line}” is not an email address (one address per line).", code="invalid"
                ) from None
        return "\n".join(lines)


@admin.register(FinancialThreshold)
class FinancialThresholdAdmin(SimpleHistoryAdmin):
    form = FinancialThresholdForm
    list_display = ("amount", "audience", "recipients")
    search_fields = ("audience",)
    filter_horizontal = ("notify_users",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_users=Count("notify_users"))

    @admin.display(description="Users notified", ordering="n_users")
    def recipients(self, obj: FinancialThreshold) -> int:
        return obj.n_users


# --- Catalog ---


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "lead", "manager", "chat_channel", "member_count")
    list_select_related = ("lead", "manager")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("lead", "manager")
    filter_horizontal = ("members",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_members=Count("members"))

    @admin.display(description="Members", ordering="n_members")
    def member_count(self, obj: Team) -> int:
        return obj.n_members


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "team", "tier", "public")
    list_filter = ("tier", "public", "team")
    list_select_related = ("team",)
    search_fields = ("name", "slug", "public_name", "description")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("team",)


# --- People ---


class CertificationFilter(admin.SimpleListFilter):
    title = "IC certification"
    parameter_name = "certification"

    def lookups(self, request, model_admin):
        return (("certified", "Certified"), ("expired", "Expired"), ("none", "Never certified"))

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "certified":
            return queryset.filter(_certified_q(today))
        if self.value() == "expired":
            return queryset.filter(
                ic_certified_on__isnull=False, ic_certification_expires__lt=today
            )
        if self.value() == "none":
            return queryset.filter(ic_certified_on__isnull=True)
        return queryset


def _certified_q(today) -> Q:
    """The SQL form of ``Profile.ic_certified(today)``."""
    return Q(ic_certified_on__isnull=False) & (
        Q(ic_certification_expires__isnull=True) | Q(ic_certification_expires__gte=today)
    )


@admin.register(Profile)
class ProfileAdmin(SimpleHistoryAdmin):
    form = ProfileForm
    list_display = (
        "user",
        "chat_handle",
        "phone",
        "time_zone",
        "certified",
        "ic_certification_expires",
    )
    list_filter = (CertificationFilter,)
    list_select_related = ("user",)
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "chat_handle",
        "phone",
    )
    # A profile belongs to its user for life; it is created with the user.
    readonly_fields = ("user",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                is_certified=Case(
                    When(_certified_q(timezone.localdate()), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
        )

    @admin.display(description="IC certified", boolean=True, ordering="is_certified")
    def certified(self, obj: Profile) -> bool:
        return obj.is_certified

    def has_add_permission(self, request):
        # Every user gets a profile when the user is created (ircore.receivers).
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm
    can_delete = False
    verbose_name_plural = "incident profile"
    fields = (
        "chat_handle",
        "phone",
        "time_zone",
        "ic_certified_on",
        "ic_certification_expires",
    )


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (ProfileInline,)

    def get_inline_instances(self, request, obj=None):
        # On the add form the profile does not exist yet and the post_save receiver
        # creates it; an inline there would try to create a second one.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._picking_a_user(request, obj)

    def _picking_a_user(self, request, obj) -> bool:
        """Django's autocomplete endpoint asks the *user* admin for view permission. Answer
        yes for whoever may add or change the model whose form is picking the user (a manager
        choosing a team lead), without letting them browse or open user accounts."""
        match = request.resolver_match
        if obj is not None or match is None or match.url_name != "autocomplete":
            return False
        try:
            source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        except (KeyError, LookupError, ValueError):
            return False
        opts = source._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("add", "change")
        )


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the periodic jobs themselves."""

    list_display = ("name", "last_seen", "is_stale")
    ordering = ("name",)

    @admin.display(description="Stale", boolean=True)
    def is_stale(self, obj: Heartbeat) -> bool:
        return obj.stale

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


register_notifications(admin.site)
