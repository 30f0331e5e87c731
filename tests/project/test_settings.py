"""Settings come from the environment and fail loudly; production passes `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.settings.env import env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **environment):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION_FIELD_KEY = "cHJvZHVjdGlvbi1maWVsZC1rZXktMzItYnl0ZXMtbG9uZyE="


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="project.settings.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        FIELD_ENCRYPTION_KEY=PRODUCTION_FIELD_KEY,
        ALLOWED_HOSTS="sanzi.example.org",
        SITE_URL="https://sanzi.example.org",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_field_encryption_key(tmp_path):
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="project.settings.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        ALLOWED_HOSTS="x",
        SITE_URL="https://sanzi.example.org",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="project.settings.production", ALLOWED_HOSTS="x", VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_database_url_selects_postgresql(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)",
        DATABASE_URL="postgres://u@db.example:5432/sanzi",
        REDIS_URL="redis://cache.example:6379/0",
        VAR_DIR=str(tmp_path),
    )
    assert "postgresql" in result.stdout and "redis://cache.example:6379/0" in result.stdout, result.stderr


def test_embedded_default_is_sqlite_and_a_sqlite_broker(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)",
        VAR_DIR=str(tmp_path),
    )
    assert "sqlite3" in result.stdout and "sqla+sqlite" in result.stdout, result.stderr


def test_bad_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG", False)


def test_bad_integer_fails_loudly(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured):
        env_int("SOME_NUMBER", 1)
