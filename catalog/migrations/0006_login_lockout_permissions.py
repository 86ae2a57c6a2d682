"""Staff see the admin login lockouts; curators may also clear them (delete an attempt)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Catalog curators": ["view_accessattempt", "delete_accessattempt", "view_accesslog"],
    "Catalog viewers": ["view_accessattempt", "view_accesslog"],
}


def grant(apps, schema_editor):
    # As in 0002: permissions are normally created after the last migration; create axes' now.
    app_config = apps.get_app_config("axes")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(content_type__app_label="axes", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        Group.objects.get(name=name).permissions.remove(
            *Permission.objects.filter(content_type__app_label="axes", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_stored_text_has_no_control_characters"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
