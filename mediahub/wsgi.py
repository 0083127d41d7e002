"""WSGI entry point, used by runserver locally and by Zappa's handler on Lambda."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")

application = get_wsgi_application()
