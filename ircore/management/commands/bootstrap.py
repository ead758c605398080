"""First-run setup, safe to repeat (``make run`` calls it after ``migrate``):

1. the default policy, only if the database has no severity yet (an install's own policy is
   never overwritten);
2. the demo data, once per database (``--no-demo`` skips it);
3. an ``admin`` superuser whose generated password is kept in ``VAR_DIR/admin_password``
   (mode 0600), then the login printed: URL, username, password.
"""

import os
import secrets
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ircore import demo
from ircore.errors import RuleError
from ircore.models import Severity
from ircore.policy import import_policy, load_policy_file

ADMIN_USERNAME = "admin"
DEFAULT_POLICY = settings.BASE_DIR / "policies" / "default.yaml"


def _write_private(path: Path, text: str) -> None:
    """Create or replace the file readable by its owner only (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    path.chmod(0o600)


def ensure_admin(password_file: Path, *, allow_reset: bool = True) -> tuple[str | None, str]:
    """The admin login: (password or None if it was changed by hand, what happened).

    ``allow_reset``: whether an existing admin whose stored password is gone (a fresh var/)
    gets a new one. Production bootstraps (``--no-demo``) never reset: an ephemeral var/
    must not replace an operator's password on every deploy and print it to the deploy log.
    """
    User = get_user_model()
    stored = password_file.read_text().strip() if password_file.exists() else ""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=ADMIN_USERNAME).first()
        if user is None:
            password = stored or secrets.token_urlsafe(12)
            User.objects.create_superuser(
                ADMIN_USERNAME, email="admin@example.com", password=password
            )
            action = "created"
        elif stored:
            if not user.check_password(stored):
                # Someone changed it in the admin; respect that rather than undo it.
                return None, "kept (its password was changed since it was generated)"
            return stored, "exists"
        elif not allow_reset:
            return None, "kept (no stored copy; --reset-admin-password sets a new one)"
        else:
            # The stored copy is gone (a fresh var/): the only way to print a working login.
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            action = "password reset (no stored copy was found)"
        if password != stored:
            # A new password: demo staff follow it, so the printed login holds for them too.
            if demo.demo_loaded():
                demo.demo_set_passwords(password=password)
            _write_private(password_file, password)
    return password, action


class Command(BaseCommand):
    help = "Load the default policy and demo data once, ensure an admin login, and print it."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")
        parser.add_argument(
            "--reset-admin-password",
            action="store_true",
            help="Give an existing admin a new password if var/ holds none (default without "
            "--no-demo, so make run always prints a working login).",
        )
        parser.add_argument(
            "--policy",
            default=str(DEFAULT_POLICY),
            help="Policy file loaded when the database has no severity yet.",
        )

    def handle(
        self,
        *args,
        no_demo: bool = False,
        policy: str = "",
        reset_admin_password: bool = False,
        **options,
    ):
        self._policy(Path(policy))
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        password_file = var_dir / "admin_password"
        password, admin_action = ensure_admin(
            password_file, allow_reset=reset_admin_password or not no_demo
        )
        if not no_demo:
            self._demo(password)
        self._app_defaults()
        self._print_login(password, admin_action, password_file, with_demo=demo.demo_loaded())

    def _policy(self, path: Path) -> None:
        count = Severity.objects.count()
        if count:
            self.stdout.write(f"Policy: already present (severities: {count}); left as is.")
            return
        if not path.is_file():
            raise CommandError(f"Policy file {path} not found.")
        try:
            summary = import_policy(load_policy_file(path))
        except RuleError as exc:
            raise CommandError(f"Policy file {path} was not loaded:\n{exc.message}") from exc
        self.stdout.write(f"Policy: loaded {path.name} ({'; '.join(summary.lines())}).")

    def _app_defaults(self) -> None:
        """Seed content the apps above ship (e.g. runbooks), through each AppConfig's
        ``load_defaults()``, which loads once and returns a line to print."""
        for config in apps.get_app_configs():
            load = getattr(config, "load_defaults", None)
            if load is not None:
                self.stdout.write(load())

    def _demo(self, password: str | None) -> None:
        if demo.demo_loaded():
            self.stdout.write("Demo data: already loaded; left as is.")
            return
        if password is None:
            # Demo staff share the printed admin password; there is none to print.
            self.stdout.write("Demo data: skipped (the admin password was changed by hand).")
            return
        try:
            counts = demo.demo_load(password=password)
        except RuleError as exc:
            self.stdout.write(f"Demo data: skipped: {exc.message}")
            return
        if counts is None:
            self.stdout.write("Demo data: already loaded; left as is.")
        else:
            made = ", ".join(f"{n} {what}" for what, n in counts.items())
            self.stdout.write(f"Demo data: created {made}.")

    def _print_login(
        self, password: str | None, action: str, password_file: Path, *, with_demo: bool
    ) -> None:
        shown = password or "(not shown: left as it is; `manage.py changepassword admin` sets one)"
        lines = [
            "",
            "Log in to the admin:",
            f"  URL:      {settings.SITE_URL.rstrip('/')}/admin/",
            f"  Username: {ADMIN_USERNAME}",
            f"  Password: {shown}",
            f"  (admin {action}; the password is kept in {password_file})",
        ]
        if with_demo and password:
            names = ", ".join(demo.DEMO_USERNAMES)
            lines.append(f"  Demo staff ({names}) log in with the same password.")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
