"""Production: secrets and hosts from the environment, DEBUG off, HTTPS assumed."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_list, env_str, env_url

SECRET_KEY = env_str("SECRET_KEY")
# Required: printed QR codes and verification links must reach the real site, never a developer's machine.
SITE_URL = env_url("SITE_URL", schemes=("https",))
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Personal data is sealed with a key of the installation's own: none is built in.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
