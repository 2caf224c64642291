import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
application = get_asgi_application()

# As koto/wsgi.py: a server without a configured key would give each worker its own, and a
# sign-in or a form handled by one worker would fail at the next.
if not settings.DEBUG and not settings.SECRET_KEY_CONFIGURED:
    raise ImproperlyConfigured(
        "KOTO_SECRET_KEY is not set: set it in the environment or .env (make run writes one)."
    )
