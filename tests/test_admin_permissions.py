"""The two staff groups, what each may do, and the site's branding."""

import pytest
from django.contrib.auth.models import Group, User

from catalog.models import ApiToken, Image
from catalog.services import image_soft_delete
from catalog.tokens import token_create

pytestmark = pytest.mark.django_db

IMAGES = "/admin/catalog/image/"
TOKENS = "/admin/catalog/apitoken/"


@pytest.fixture
def staff_client(client):
    """`staff_client("Catalog viewers")`: the test client, logged in as staff of that group."""

    def log_in(group):
        user = User.objects.create_user(group.split()[-1], is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        return client

    return log_in


def test_the_groups_hold_their_permissions():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    models = ("image", "imageproperty", "imagemember", "apitoken")
    lockouts = {"view_accessattempt", "view_accesslog"}
    assert codenames("Catalog viewers") == {f"view_{model}" for model in models} | lockouts
    assert codenames("Catalog curators") == {
        f"{action}_{model}" for model in models for action in ("add", "change", "view")
    } | lockouts | {"delete_accessattempt"}


def test_a_viewer_sees_every_page(staff_client, image_factory):
    viewer = staff_client("Catalog viewers")
    image = image_factory(properties={"__os_type": "Linux"}, members=["project-b"])
    gone = image_soft_delete(image=image_factory())
    token, _ = token_create(project="p", name="ci")
    for url in (
        "/admin/",
        "/admin/catalog/",
        IMAGES,
        IMAGES + "?deleted=yes",
        f"{IMAGES}{image.pk}/change/",
        f"{IMAGES}{gone.pk}/change/",
        f"{IMAGES}{image.pk}/history/",
        IMAGES + "import/",
        TOKENS,
        f"{TOKENS}{token.pk}/change/",
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
    ):
        assert viewer.get(url).status_code == 200, url


def test_a_viewer_changes_nothing(staff_client, image_factory):
    viewer = staff_client("Catalog viewers")
    image = image_factory(name="cirros", is_public=False)
    gone = image_soft_delete(image=image_factory(name="gone"))
    token, _ = token_create(project="p", name="ci")

    page = viewer.get(f"{IMAGES}{image.pk}/change/")
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert "Restore this image" not in html
    assert f"{IMAGES}{image.pk}/delete/" not in html
    assert not page.context["inline_admin_formsets"][0].has_add_permission

    refused = [
        viewer.post(f"{IMAGES}{image.pk}/change/", {"name": "changed"}),
        viewer.get(f"{IMAGES}{image.pk}/delete/"),
        viewer.post(f"{IMAGES}{image.pk}/delete/", {"post": "yes"}),
        viewer.post(f"{IMAGES}{gone.pk}/restore/"),
        viewer.get(IMAGES + "add/"),
        viewer.post(IMAGES + "import/", {"token": "x"}),
        viewer.get(TOKENS + "add/"),
        viewer.post(TOKENS + "add/", {"project": "p", "roles": "admin"}),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)

    actions = viewer.get(IMAGES).context["action_form"].fields["action"].choices
    assert [value for value, _ in actions if value] == ["export_selected"]
    viewer.post(IMAGES, {"action": "make_public", "_selected_action": [str(image.pk)]})
    viewer.post(TOKENS, {"action": "revoke_selected", "_selected_action": [token.pk]})

    image.refresh_from_db()
    gone.refresh_from_db()
    token.refresh_from_db()
    assert (image.name, image.is_public, image.version, gone.deleted) == ("cirros", False, 1, True)
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_a_curator_curates_but_cannot_remove_rows(staff_client, image_factory):
    curator = staff_client("Catalog curators")
    image = image_factory(name="cirros", is_public=False)
    curator.post(IMAGES, {"action": "make_public", "_selected_action": [str(image.pk)]})
    assert curator.get(f"{IMAGES}{image.pk}/delete/").status_code == 200
    curator.post(f"{IMAGES}{image.pk}/delete/", {"post": "yes"})
    curator.post(TOKENS + "add/", {"project": "p", "roles": "member", "name": "made"})
    image.refresh_from_db()
    assert image.is_public
    assert image.deleted
    assert Image.objects.filter(pk=image.pk).exists()  # soft: the row stays
    assert ApiToken.objects.filter(name="made").exists()
    assert curator.get(f"{TOKENS}{ApiToken.objects.get().pk}/delete/").status_code == 403


def test_staff_outside_the_groups_see_no_catalog(client, image_factory):
    image = image_factory()
    client.force_login(User.objects.create_user("nobody", is_staff=True))
    assert client.get(IMAGES).status_code == 403
    assert client.get(f"{IMAGES}{image.pk}/change/").status_code == 403
    assert client.get(IMAGES + "import/").status_code == 403


def test_the_admin_is_branded_as_the_image_catalog(client, admin_client):
    login = client.get("/admin/login/").content.decode()
    assert "<title>Log in | IMS image catalog</title>" in login
    assert ">IMS image catalog</a>" in login
    index = admin_client.get("/admin/").content.decode()
    assert "Catalog administration" in index
    assert ">IMS image catalog</a>" in index


@pytest.mark.parametrize(
    "query", ["q=%00", "owner=%00", "status=%00", "q=a%00b", "disk_format=%FF%FE"]
)
def test_admin_list_refuses_unreadable_query_values_with_a_400(client, image_factory, query):
    image_factory()
    client.force_login(User.objects.create_superuser("boss"))
    assert client.get(f"/admin/catalog/image/?{query}").status_code == 400
