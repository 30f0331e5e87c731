"""Typed readers for settings that come from the environment; a bad value fails loudly."""

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from error


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Addressing styles botocore knows: "path" (host/bucket/key: SeaweedFS, MinIO, most private stores),
# "virtual" (bucket.host/key: Aliyun OSS, Tencent COS), "auto" (botocore decides).
S3_ADDRESSING_STYLES = ("auto", "path", "virtual")


def storage_from_url(url: str) -> dict:
    """The STORAGES["default"] entry for STORAGE_URL, an S3-compatible object store:

    s3://ACCESS_KEY:SECRET_KEY@host[:port]/bucket[/prefix][?region=…&addressing=path|virtual|auto]
    (``s3+http://`` for a store reached over plain HTTP inside a private network). Key and secret are
    URL-encoded. A malformed value fails loudly, naming what is wrong.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("s3", "s3+http"):
        raise ImproperlyConfigured(f"STORAGE_URL must start with s3:// or s3+http://, not {parts.scheme or url!r}")
    if not parts.hostname:
        raise ImproperlyConfigured("STORAGE_URL names no host")
    if parts.username is None or parts.password is None:
        raise ImproperlyConfigured("STORAGE_URL needs ACCESS_KEY:SECRET_KEY@ before the host")
    bucket, _, prefix = parts.path.lstrip("/").partition("/")
    if not bucket:
        raise ImproperlyConfigured("STORAGE_URL names no bucket (s3://key:secret@host/BUCKET)")
    query = parse_qs(parts.query)
    unknown = set(query) - {"region", "addressing"}
    if unknown:
        raise ImproperlyConfigured(f"STORAGE_URL has unknown parameters: {', '.join(sorted(unknown))}")
    addressing = query.get("addressing", ["auto"])[-1]
    if addressing not in S3_ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"STORAGE_URL addressing={addressing!r} is not one of {', '.join(S3_ADDRESSING_STYLES)}"
        )
    try:
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"STORAGE_URL has a bad port: {error}") from error
    scheme = "http" if parts.scheme == "s3+http" else "https"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "access_key": unquote(parts.username),
            "secret_key": unquote(parts.password),
            "bucket_name": bucket,
            "location": prefix.strip("/"),
            "endpoint_url": f"{scheme}://{host}{f':{port}' if port else ''}",
            "region_name": query.get("region", [None])[-1],
            "addressing_style": None if addressing == "auto" else addressing,
            # Files are private: they leave only through the product's checked views, never by a bucket URL.
            "default_acl": None,
            "querystring_auth": True,
            # Like the local disk: a second file of the same name gets a name of its own. A rendered volume
            # never overwrites an earlier one, which stays for the record.
            "file_overwrite": False,
        },
    }


def env_url(name: str, default: str | None = None, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL (scheme and host, optionally a path), without its trailing slash."""
    value = env_str(name, default).strip()
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
        allowed = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(f"{name}={value!r} is not an address starting with {allowed} and a host name")
    return value.rstrip("/")
