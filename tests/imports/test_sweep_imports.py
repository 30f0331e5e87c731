"""The authorisation sweep (tests/sweep.py) run over the import's URLs only, for every persona."""

import pytest

from tests import sweep
from tests.test_authorization_sweep import PERSONAS, signed_in


@pytest.mark.parametrize("persona", ["anonymous", *PERSONAS])
def test_the_import_pages_hold_the_sweep(world, persona, settings, tmp_path, monkeypatch):
    settings.MFA_REQUIRED = True
    settings.MEDIA_ROOT = tmp_path / "media"
    victims = sweep.build_victims(world)
    everything = sweep.url_patterns()
    ours = [url for url in everything if url.namespace == "imports"]
    assert len(ours) == 10
    monkeypatch.setattr(sweep, "url_patterns", lambda: ours)
    failures = list(sweep.sweep_requests(signed_in(world), world, persona, victims))
    assert not failures, "\n".join(failures)
