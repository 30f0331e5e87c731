"""A disposable installation for tests that run the product as separate processes (workers, web servers).

Its own runtime folder (VAR_DIR: the SQLite database or broker file, uploads), its own database (a SQLite
file, or a fresh PostgreSQL database beside the one DATABASE_URL names), its own queue, and every process
it starts in a process group of its own, stopped (and killed if need be) when the installation closes.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SETTINGS = "tests.installation_settings"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, seconds: float = 60.0, interval: float = 0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Installation:
    def __init__(self, *, redis_url: str = "", postgres_url: str = "", extra_env: dict | None = None):
        self.folder = Path(tempfile.mkdtemp(prefix="sanzi-installation-"))
        self.processes: dict[str, subprocess.Popen] = {}
        self.queue = f"scratch-{uuid.uuid4().hex[:10]}"
        self.database_url = ""
        if postgres_url:
            parts = urlsplit(postgres_url)
            self.database_name = f"{parts.path.lstrip('/') or 'postgres'}_scratch_{uuid.uuid4().hex[:8]}"
            self.server_url = postgres_url
            self.database_url = urlunsplit(parts._replace(path=f"/{self.database_name}"))
            self._postgres(f'CREATE DATABASE "{self.database_name}"')
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "VAR_DIR": str(self.folder / "var"),
            "MEDIA_ROOT": str(self.folder / "var" / "media"),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "SCRATCH_QUEUE": self.queue,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        # pytest-xdist's worker name would change the test settings' queue; this installation has its own.
        self.env.pop("PYTEST_XDIST_WORKER", None)

    # --- commands -------------------------------------------------------------------------------

    def manage(self, *arguments: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *arguments], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode:
            raise AssertionError(f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def script(self, module: str, *arguments: str, timeout: float = 300):
        """Run ``python -m module arguments`` in the installation; its last output line is JSON."""
        result = subprocess.run(
            [PYTHON, "-m", module, *arguments], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode:
            raise AssertionError(f"{module} {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own: killing it kills its children too
        )
        self.processes[name] = process
        return process

    def start_worker(
        self, name: str, *, beat: bool = False, pool: str = "solo", env: dict | None = None
    ) -> subprocess.Popen:
        command = [PYTHON, "-m", "celery", "-A", "project", "worker", f"--pool={pool}", "--concurrency=1"]
        command += ["-l", "info", "-n", f"{name}@%h"]
        command += ["-Q", self.queue]
        if beat:
            command += ["-B", "-s", str(self.folder / f"{name}-beat-schedule")]
        return self.start(name, command, env)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- reading the database directly (fast enough to poll) ---------------------------------------

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        """Plain SQL with %s placeholders, on whichever database the installation has."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as connection:
                cursor = connection.execute(sql, parameters)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.folder / "var" / "db.sqlite3", timeout=20) as connection:
            return connection.execute(sql.replace("%s", "?"), parameters).fetchall()

    # --- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        self.processes.clear()
        if self.database_url:
            self._postgres(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        subprocess.run(["rm", "-rf", str(self.folder)], check=False)

    def _postgres(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(statement)
