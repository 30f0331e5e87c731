"""The SQLite file of a village's demo, shared by the web server and the worker: writers wait, never fail."""

import threading
import time

from django.db.utils import ConnectionHandler

from project.settings.base import SQLITE_OPTIONS


def product_database(path):
    """Connections to a SQLite file with the product's own options (settings/base.py)."""
    return ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": dict(SQLITE_OPTIONS)}}
    )


def raw(handler):
    """The sqlite3 connection the backend opens with those options (init commands run), in autocommit."""
    wrapper = handler["default"]
    connection = wrapper.get_new_connection(wrapper.get_connection_params())
    connection.isolation_level = None
    return connection


def test_the_file_waits_for_a_busy_writer_and_logs_ahead(tmp_path):
    connection = raw(product_database(tmp_path / "db.sqlite3"))
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_OPTIONS["timeout"] * 1000
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_a_second_writer_waits_for_the_first_commit_instead_of_failing(tmp_path):
    handler = product_database(tmp_path / "db.sqlite3")
    first = raw(handler)
    first.execute("CREATE TABLE reminder (id INTEGER PRIMARY KEY, level TEXT)")
    first.execute("BEGIN IMMEDIATE")
    first.execute("INSERT INTO reminder (level) VALUES ('remind')")
    outcome = {}

    def second_writer():
        # Its own thread, so its own connection, as the worker's is beside the web server's.
        second = raw(product_database(tmp_path / "db.sqlite3"))
        # A reader goes on while the first writer holds its lock (write-ahead log): it sees the last commit.
        outcome["seen"] = second.execute("SELECT count(*) FROM reminder").fetchone()[0]
        started = time.monotonic()
        try:
            second.execute("BEGIN IMMEDIATE")
            second.execute("INSERT INTO reminder (level) VALUES ('escalate')")
            second.execute("COMMIT")
            outcome["waited"] = time.monotonic() - started
        except Exception as error:  # reported in the assertion
            outcome["error"] = repr(error)
        finally:
            second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.5)
    first.execute("COMMIT")
    thread.join(timeout=30)
    assert "error" not in outcome, outcome
    assert outcome["seen"] == 0
    assert outcome["waited"] >= 0.3
    assert first.execute("SELECT level FROM reminder ORDER BY id").fetchall() == [("remind",), ("escalate",)]
    first.close()
