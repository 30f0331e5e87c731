import pytest
from django.core.cache import cache


@pytest.fixture
def client(client):
    """English, so that assertions can quote the untranslated messages."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()
