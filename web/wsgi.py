"""WSGI entry point (waitress in ``clausier serve``; any WSGI server on a team server)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
application = get_wsgi_application()
