import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
application = get_wsgi_application()

# A web server without a configured key: each worker would make its own, and a sign-in or
# a form handled by one worker would fail at the next (koto/settings.py).
if not settings.DEBUG and not settings.SECRET_KEY_CONFIGURED:
    raise ImproperlyConfigured(
        "KOTO_SECRET_KEY is not set: set it in the environment or .env (make run writes one)."
    )
