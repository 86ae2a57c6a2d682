from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.core.signals import request_finished, request_started
from django.db import connections
from django.db.backends.signals import connection_created


class CatalogConfig(AppConfig):
    # This module also holds django-axes' config: Django picks the app's config by this flag.
    default = True
    name = "catalog"
    verbose_name = "Image catalog"

    def ready(self):
        from . import database

        if any(connection.vendor == "postgresql" for connection in connections.all()):
            database.install()
        request_started.connect(database.start_request)
        # Connected after django.db's close_old_connections, so it runs after it.
        request_finished.connect(database.end_request)
        connection_created.connect(database.limit_statements)


class LoginLockoutConfig(AxesConfig):
    """django-axes itself; the admin lists its failed attempts and logins under this name."""

    verbose_name = "Admin login lockouts"
