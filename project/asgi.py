import os

from channels.routing import ProtocolTypeRouter
from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")
django_asgi_app = get_asgi_application()

if settings.DEBUG:
    # The embedded demo has no reverse proxy in front of daphne to serve static files.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter({"http": django_asgi_app})
