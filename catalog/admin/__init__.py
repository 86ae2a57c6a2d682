"""The staff's admin site: images (images.py, with the import page), API tokens (tokens.py) and
the login lockout (lockout.py)."""

from django.contrib import admin

from . import images, lockout, tokens  # noqa: F401  (registers the model admins)

admin.site.site_header = "IMS image catalog"
admin.site.site_title = "IMS image catalog"
admin.site.index_title = "Catalog administration"
