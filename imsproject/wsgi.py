"""WSGI entry point, which the production server (imsproject/serve.py) serves."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsproject.settings")

application = get_wsgi_application()
