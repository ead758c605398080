"""The policy file in the admin: export from the severity list, import with a dry-run
preview and an "Apply" step. The views live on ``SeverityAdmin`` (``PolicyFileViews``);
reading, bounds and validation are ``ircore.policy``'s, shared with the command."""

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from ircore import policy, verbs

IMPORT_VERB = "import_policy"
EXPORT_VERB = "export_policy"
# One cap for the upload and the command (``manage.py policy import``).
POLICY_UPLOAD_MAX_BYTES = policy.MAX_FILE_BYTES
# A previewed file stays appliable this long; after that it must be uploaded again.
POLICY_PREVIEW_MAX_AGE = 60 * 60
_PREVIEW_SALT = "ircore.admin.policy-import"


@dataclass(frozen=True)
class PolicyUpload:
    """An uploaded policy file, read as text, and the severity map to import it with;
    parsing it is ``load()``'s job."""

    name: str
    fmt: str
    text: str
    severity_map: dict[str, str] = field(default_factory=dict)

    def load(self) -> Any:
        """The document, or ``PolicyError`` naming why the text is not a policy file."""
        return policy.loads_policy(self.text, self.fmt, name=self.name)

    def sign(self, *, user) -> str:
        """The file as a token the preview page carries to the "Apply" step, bound to the
        user who previewed it, so the applied file (and map) is exactly the one shown."""
        data = {
            "name": self.name,
            "format": self.fmt,
            "text": self.text,
            "map": self.severity_map,
            "user": user.pk,
        }
        return signing.dumps(data, salt=_PREVIEW_SALT, compress=True)

    @classmethod
    def unsign(cls, token: str, *, user) -> "PolicyUpload":
        """Raises ``signing.BadSignature`` (or its ``SignatureExpired``) if the token was
        altered, is too old, or was made for someone else."""
        data = signing.loads(token, salt=_PREVIEW_SALT, max_age=POLICY_PREVIEW_MAX_AGE)
        if data.get("user") != user.pk:
            raise signing.BadSignature("made for another user")
        return cls(
            name=data["name"], fmt=data["format"], text=data["text"], severity_map=data["map"]
        )


class PolicyImportForm(forms.Form):
    DRY_RUN, APPLY = "dry_run", "apply"

    file = forms.FileField(
        label="Policy file",
        help_text=(
            f"YAML (.yaml, .yml) or JSON (.json), at most "
            f"{policy.reader.megabytes(POLICY_UPLOAD_MAX_BYTES)}."
        ),
        widget=forms.FileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )
    severity_map = forms.CharField(
        label="Severity map",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 50, "placeholder": "e.g. SEV-1=P0, SEV-2=P1"}),
        help_text=(
            "Only to switch scheme when the file removes levels that incidents use: "
            "OLD=NEW pairs. Each incident at an old level moves to its new level, recorded "
            "in the incident's history, in the same step as the import."
        ),
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
            raise ValidationError(policy.too_large(upload.size), code="too_large")
        try:
            fmt = policy.format_for(upload.name)
            text = policy.decode_policy(upload.read(), name=upload.name)
        except policy.PolicyError as exc:
            raise ValidationError(exc.problems, code="invalid") from None
        return PolicyUpload(name=upload.name, fmt=fmt, text=text)

    def clean_severity_map(self) -> dict[str, str]:
        try:
            return policy.parse_severity_map(self.cleaned_data["severity_map"])
        except policy.PolicyError as exc:
            raise ValidationError(exc.problems, code="invalid") from None

    def upload(self) -> PolicyUpload:
        upload = self.cleaned_data["file"]
        return PolicyUpload(
            name=upload.name,
            fmt=upload.fmt,
            text=upload.text,
            severity_map=self.cleaned_data["severity_map"],
        )


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
    *, document: Any, user: Any, severity_map: dict[str, str] | None = None
) -> tuple[policy.ImportSummary, list[SectionChanges]]:
    """What importing ``document`` would do, entry by entry; changes nothing.

    The same as ``import_policy(dry_run=True)`` (the import runs and is rolled back, so
    the counts are exactly a real import's), except that the policy is exported again
    before the rollback: comparing the two exports names each entry and field that
    changes, as the file writes them. Raises ``PolicyError`` for a bad file."""
    with transaction.atomic():
        before = policy.export_policy()
        summary = policy.import_policy(document, user=user, severity_map=severity_map)
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
        for name in _IDENTITY_FIELDS:
            if entry.get(name) not in (None, ""):
                return name, str(entry[name])
    return None


def _label(entry: dict[str, Any], identity: tuple[str, str]) -> str:
    name, value = identity
    extra = next((entry[f] for f in _LABEL_FIELDS if f != name and entry.get(f)), None)
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
    for name in dict.fromkeys([*old, *new]):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            a, b = a or [], b or []
            added, removed = _count_missing(b, a), _count_missing(a, b)
            parts = [f"{added} added"] * bool(added) + [f"{removed} removed"] * bool(removed)
            out.append(f"{name} ({', '.join(parts) or 'reordered'})")
        elif len(_brief(a)) <= 40 and len(_brief(b)) <= 40:
            out.append(f"{name}: {_brief(a)} → {_brief(b)}")
        else:
            out.append(name)  # long text: which field is enough
    return out


def _count_missing(items: list[Any], other: list[Any]) -> int:
    """How many of ``items`` are not in ``other``; by set when the items allow it (a list
    of a thousand checklist lines must not cost a million comparisons)."""
    try:
        known = set(other)
        return sum(1 for item in items if item not in known)
    except TypeError:  # unhashable entries (a later section's mappings)
        return sum(1 for item in items if item not in other)


def _brief(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class PolicyFileViews:
    """Export and import views for the severity admin (the policy's home page)."""

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
            "can_import_policy": verbs.may(request.user, IMPORT_VERB),
            "can_export_policy": verbs.may(request.user, EXPORT_VERB),
        }
        return super().changelist_view(request, extra_context)

    def policy_export_view(self, request):
        """The current policy as a download: YAML, or JSON with ``?format=json``. Whoever
        may read every section may download it (``export_policy``)."""
        if not verbs.may(request.user, EXPORT_VERB):
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

        1. POST with a file (and a severity map, if switching scheme): validate the form
           (size, type, text, map syntax), then either preview it (dry run: the counts,
           the entries that change and the incidents that move, nothing written) or
           apply it.
        2. The preview carries the file and map, signed, to an "Apply" button; applying
           validates them again against the database as it is then.
        A bad file lists its problems (bounded) and changes nothing."""
        # Importing rewrites the whole policy: the verb table says who, on GET too.
        if not verbs.may(request.user, IMPORT_VERB):
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
                upload, mode = form.upload(), form.cleaned_data["mode"]

        if upload is not None:
            try:
                document = upload.load()
                if mode == PolicyImportForm.APPLY:
                    summary = policy.import_policy(
                        document, user=request.user, severity_map=upload.severity_map
                    )
                    self._report_import(request, upload, summary)
                    return HttpResponseRedirect(self._url("changelist"))
                summary, changes = preview_policy_import(
                    document=document, user=request.user, severity_map=upload.severity_map
                )
                payload = upload.sign(user=request.user)
            except policy.PolicyError as exc:
                heading = f"{upload.name} has {exc.count_text()}; nothing was changed."
                problems = exc.lines()
            if problems and not form.is_bound:
                # Applying a preview failed: offer the same map again with the form.
                form = PolicyImportForm(
                    initial={"severity_map": policy.format_severity_map(upload.severity_map)}
                )

        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": "Import policy",
            "form": form,
            "problem_heading": heading,
            "problems": problems,
            "upload": upload,
            "severity_map": sorted(upload.severity_map.items()) if upload else [],
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
