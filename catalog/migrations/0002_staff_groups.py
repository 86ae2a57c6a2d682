"""The two staff groups: curators change the catalog and its tokens, viewers only look."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CATALOG_MODELS = ("image", "imageproperty", "imagemember", "apitoken")
GROUPS = {
    "Catalog curators": [
        f"{action}_{model}" for model in CATALOG_MODELS for action in ("add", "change", "view")
    ],
    "Catalog viewers": [f"view_{model}" for model in CATALOG_MODELS],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after the last migration (post_migrate); create the
    # catalog's now, so that a fresh database gets groups that hold them.
    app_config = apps.get_app_config("catalog")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
