"""The public address printed in PDFs comes from the environment; production refuses to start without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from documents.rendering import site_url, verification_url
from project.settings.env import env_url
from tests.project.test_settings import PRODUCTION_FIELD_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://sanzi.example.gov.cn/", "https://sanzi.example.gov.cn"),
        ("http://10.0.0.5:8130", "http://10.0.0.5:8130"),
    ],
)
def test_an_address_is_read_without_its_trailing_slash(monkeypatch, value, expected):
    monkeypatch.setenv("SITE_URL", value)
    assert env_url("SITE_URL") == expected


@pytest.mark.parametrize("value", ["sanzi.example.gov.cn", "ftp://x.cn", "https://", "https://x.cn/?a=1", " "])
def test_a_bad_address_fails_loudly(monkeypatch, value):
    monkeypatch.setenv("SITE_URL", value)
    with pytest.raises(ImproperlyConfigured):
        env_url("SITE_URL")


def test_printed_links_follow_the_setting(settings):
    settings.SITE_URL = "http://127.0.0.1:8130"
    assert site_url("/board/") == "http://127.0.0.1:8130/board/"
    assert verification_url("abc") == "http://127.0.0.1:8130" + reverse("documents:verify_code", args=["abc"])


def production_check(**env) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if key not in ("SITE_URL", "DATABASE_URL", "REDIS_URL")
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings.production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "a.cn",
            "FIELD_ENCRYPTION_KEY": PRODUCTION_FIELD_KEY,
        },
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_the_public_address(tmp_path):
    result = production_check(VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SITE_URL is required" in result.stderr


def test_production_wants_https(tmp_path):
    result = production_check(VAR_DIR=str(tmp_path), SITE_URL="http://sanzi.example.gov.cn")
    assert result.returncode != 0 and "https://" in result.stderr
    assert production_check(VAR_DIR=str(tmp_path), SITE_URL="https://sanzi.example.gov.cn").returncode == 0


@pytest.mark.django_db
def test_an_unknown_verification_code_gets_a_chinese_page(client):
    response = client.get(reverse("documents:verify_code", args=["NOSUCHCODE"]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    content = response.content.decode()
    assert "无此核验码" in content and "NOSUCHCODE" in content and "Page not found" not in content


def test_the_demo_prints_the_port_it_runs_on_and_keeps_celery_quiet():
    source = (ROOT / "scripts" / "run_demo.py").read_text()
    assert 'env.setdefault("SITE_URL", f"http://{HOST}:{PORT}")' in source
    assert '"-l", "info"' not in source
