"""Set up and run the whole tool on one machine: what ``make run`` does.

1. ``manage.py migrate``, ``collectstatic`` and ``bootstrap`` (policy, demo data, admin login);
   each is idempotent, so running this again is safe.
2. Start two children: the web server and a Celery worker with beat embedded (``-B``), which
   is enough on one machine; production runs several workers and exactly one ``celery beat``.
3. Forward Ctrl-C / SIGTERM to both and wait. If either child dies, stop the other and exit
   non-zero, so a half-running tool never looks healthy.

Standard library only: it runs before anything else is known to work.
Environment: PORT (8000), HOST (127.0.0.1), VAR_DIR (./var), plus every settings knob.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
STOP_GRACE_SECONDS = 30


def log(message: str) -> None:
    print(f"[run] {message}", flush=True)


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def _die_with_parent() -> None:
    """Children get SIGTERM if this process is killed outright (Linux), so none is orphaned."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(name: str, argv: list[str]) -> subprocess.Popen:
    # A session of its own: a terminal's Ctrl-C reaches only this script, which forwards one
    # signal. (A second one would turn Celery's warm shutdown into a cold one.)
    proc = subprocess.Popen(argv, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent)
    log(f"started {name} (pid {proc.pid}): {' '.join(argv[1:])}")
    return proc


def wait_for_port(host: str, port: int, web: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and web.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def banner(base_url: str, var_dir: Path) -> None:
    password_file = var_dir / "admin_password"
    password = password_file.read_text().strip() if password_file.exists() else "(see above)"
    lines = [
        "",
        "=" * 64,
        "Incident response is running.",
        f"  Admin (the main UI): {base_url}/admin/",
        "  Username:            admin",
        f"  Password:            {password}",
        f"                       (also in {password_file}; demo staff use the same one)",
        f"  API docs:            {base_url}/api/docs/",
        f"  Health:              {base_url}/healthz",
        "Press Ctrl-C to stop the web server and the worker.",
        "=" * 64,
        "",
    ]
    print("\n".join(lines), flush=True)


# runserver exits cleanly on SIGINT; SIGTERM is Celery's warm shutdown (finish running tasks).
STOP_SIGNALS = {"web": signal.SIGINT, "worker": signal.SIGTERM}


def stop(procs: dict[str, subprocess.Popen]) -> None:
    for name, proc in procs.items():
        if proc.poll() is None:
            log(f"stopping {name} (pid {proc.pid})")
            proc.send_signal(STOP_SIGNALS.get(name, signal.SIGTERM))
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in {STOP_GRACE_SECONDS}s; killing it")
            proc.kill()
            proc.wait()
        log(f"{name} exited with {proc.returncode}")
        reap_group(name, proc.pid)


def group_gone(pgid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def reap_group(name: str, pgid: int) -> None:
    """End what a child left behind (a worker killed outright orphans its pool and beat)."""
    if group_gone(pgid, within=5):  # a clean exit: its helpers are finishing on their own
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        log(f"sending {sig.name} to what {name} left running")
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        if group_gone(pgid, within=5):
            return


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    var_dir = Path(os.environ.get("VAR_DIR", ROOT / "var")).resolve()
    base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    os.environ["VAR_DIR"] = str(var_dir)
    # Links in notifications and the printed login point at this server unless told otherwise.
    os.environ.setdefault("SITE_URL", base_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["PYTHONUNBUFFERED"] = "1"

    try:
        log("migrating the database")
        manage("migrate", "--noinput", "-v", "0")
        log("collecting static files")
        manage("collectstatic", "--noinput", "-v", "0")
        manage("bootstrap")
    except subprocess.CalledProcessError as exc:
        log(f"setup failed: {' '.join(map(str, exc.cmd[1:]))} exited with {exc.returncode}")
        return exc.returncode or 1
    except KeyboardInterrupt:
        return 130

    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        if not stopping:
            log(f"received {signal.Signals(signum).name}; shutting down")
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    procs = {
        "web": start(
            "web", [PY, "manage.py", "runserver", f"{host}:{port}", "--noreload", "--skip-checks"]
        ),
        "worker": start(
            "worker",
            [
                PY, "-m", "celery", "-A", "config", "worker", "-B",
                "-l", "info", "--concurrency", "2",
                "-s", str(var_dir / "celerybeat-schedule"),
            ],
        ),
    }  # fmt: skip
    if wait_for_port(host if host not in ("0.0.0.0", "::") else "127.0.0.1", port, procs["web"]):
        banner(base_url, var_dir)

    # Wait for a stop request or for either child to die, whichever comes first.
    died = None
    while not stopping and died is None:
        for name, proc in procs.items():
            if proc.poll() is not None:
                died = name
                break
        else:
            time.sleep(0.5)
    if died:
        log(f"{died} exited with {procs[died].returncode}; stopping the rest")
    stop(procs)
    return 1 if died else 0


if __name__ == "__main__":
    sys.exit(main())
