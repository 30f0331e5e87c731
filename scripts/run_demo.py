"""Run the demo system: daphne, a Celery worker and Celery beat, started and stopped together.

`make demo` runs this after migrate and seed_demo. Ctrl-C (SIGINT) or SIGTERM stops every
child; if one child dies, the others are stopped and this exits non-zero.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "8000"))
# How long children get to finish their work after SIGTERM before they are killed.
GRACE_SECONDS = 15
# The worker and beat print their own banners when they start: ours comes after them.
BANNER_DELAY_SECONDS = 5
# The venv's interpreter runs every child, so nothing depends on PATH.
PYTHON = sys.executable

# Celery logs every task it receives and finishes at INFO: the console shows warnings and errors only.
# WORKER_LOG_LEVEL=info make demo brings the lines back (CELERY_LOG_LEVEL is Celery's own variable).
CELERY_LOG_LEVEL = os.environ.get("WORKER_LOG_LEVEL", "warning").lower()
CHILDREN = {
    "web": [PYTHON, "-m", "daphne", "-b", HOST, "-p", str(PORT), "project.asgi:application"],
    "worker": [PYTHON, "-m", "celery", "-A", "project", "worker", "--pool=solo", "-l", CELERY_LOG_LEVEL],
    # The schedule file is CELERY_BEAT_SCHEDULE_FILENAME from settings, under var/.
    "beat": [PYTHON, "-m", "celery", "-A", "project", "beat", "-l", CELERY_LOG_LEVEL],
}

stop_requests = 0


def request_stop(signum, _frame):
    global stop_requests
    stop_requests += 1


def die_with_parent():
    """In each child: get SIGTERM if this runner dies, even by SIGKILL, so nothing is left behind."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start(name: str, command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")
    # The PDFs the worker renders print this address in their QR codes: the port the demo runs on.
    env.setdefault("SITE_URL", f"http://{HOST}:{PORT}")
    # A session of its own: Ctrl-C reaches only this runner, which stops the children in order.
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, preexec_fn=die_with_parent)


def signal_child(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    running = [p for p in children.values() if p.poll() is None]
    for process in running:
        signal_child(process, signal.SIGTERM)
    requests_before = stop_requests
    deadline = time.monotonic() + GRACE_SECONDS
    # A second Ctrl-C means "don't wait".
    while any(p.poll() is None for p in running) and time.monotonic() < deadline and stop_requests == requests_before:
        time.sleep(0.1)
    for name, process in children.items():
        if process.poll() is None:
            print(f"run_demo: {name} did not stop in time; killing it", file=sys.stderr)
            signal_child(process, signal.SIGKILL)
            process.wait()


def port_in_use() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, PORT)) == 0


def demo_logins() -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", "seed_demo", "--print-logins"], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode == 0 and result.stdout.strip():
        return result.stdout.rstrip()
    lines = result.stderr.strip().splitlines() or ["no output"]
    # Django's "Unknown command" is two lines; for a traceback, its last line says the most.
    reason = " ".join(lines) if len(lines) <= 2 else lines[-1]
    return f"(could not list them: {reason})\nTry: .venv/bin/python manage.py seed_demo --print-logins"


def banner(logins: str) -> str:
    url = f"http://{HOST}:{PORT}/"
    line = "=" * 72
    watch = (
        "Live work: log in as leader_dh and keep the inbox open; new tasks, reminders and escalations\n"
        f"arrive without a reload (bell: {url}notifications/). Beat sends reminders within a minute and\n"
        f"raises the early warnings (监督预警) at {url}registers/warnings/."
    )
    security = (
        "Two-factor login (TOTP): in this demo it is offered, not required (MFA_REQUIRED=0 in the demo settings;\n"
        "production requires it for township, county and administrator posts). To try it, open 双因素认证 after\n"
        "logging in, scan the QR code with an authenticator app and enter its code; every later login asks for one.\n"
        "Administrators: sysadmin (accounts, posts, organisations), secadmin (policy, lockouts, sessions,\n"
        f"MFA resets), auditadmin (security log, access log). The Django admin ({url}admin/) is the maintenance\n"
        "superuser's only."
    )
    return (
        f"\n{line}\nThe demo is running at {url}\n\nDemo logins:\n{logins}\n\n{watch}\n\n{security}\n\n"
        f"Press Ctrl-C to stop.\n{line}\n"
    )


def main() -> int:
    if port_in_use():
        print(f"run_demo: something already listens on {HOST}:{PORT}; stop it or set PORT=…", file=sys.stderr)
        return 1
    logins = demo_logins()
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children = {name: start(name, command) for name, command in CHILDREN.items()}
    started = time.monotonic()
    announced = False
    status = 0
    while not stop_requests:
        dead = [(name, p.returncode) for name, p in children.items() if p.poll() is not None]
        if dead:
            for name, code in dead:
                print(f"run_demo: {name} exited with status {code}; stopping the others", file=sys.stderr)
            status = 1
            break
        if not announced and time.monotonic() - started > BANNER_DELAY_SECONDS and port_in_use():
            print(banner(logins), flush=True)
            announced = True
        time.sleep(0.2)

    print("run_demo: stopping web, worker and beat…", file=sys.stderr, flush=True)
    stop_all(children)
    return status


if __name__ == "__main__":
    sys.exit(main())
