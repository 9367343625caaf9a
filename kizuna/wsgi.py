"""WSGI entry point for production servers: ``gunicorn kizuna.wsgi`` (see docs/operations.md). On SQLite the
application sits behind an admission gate (``kizuna.web.admission``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")

from kizuna.web.admission import admitted

application = admitted(get_wsgi_application())
