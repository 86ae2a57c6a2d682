from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Image catalog"


class LoginLockoutConfig(AxesConfig):
    """django-axes itself; the admin lists its failed attempts and logins under this name."""

    verbose_name = "Admin login lockouts"
