"""API tokens in the admin: listed, created with the secret shown once, revoked."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from catalog.admin.tokens import token_status
from catalog.models import ApiToken
from catalog.tokens import hash_secret, token_create, token_revoke

pytestmark = pytest.mark.django_db

URL = "/admin/catalog/apitoken/"


def test_list_shows_what_identifies_a_token_but_not_its_secret(admin_client):
    token, secret = token_create(project="project-a", roles=["reader", "member"], name="ci")
    response = admin_client.get(URL)
    page = response.content.decode()
    headers = [str(h["text"]).lower() for h in response.context["result_headers"]][1:]
    assert headers == [
        "name",
        "status",
        "project",
        "roles",
        "secret",
        "created",
        "expires",
        "last used",
        "revoked",
    ]
    assert ">ci</span>" in page
    assert "reader,<wbr>member" in page
    assert f"{token.prefix}…" in page
    assert secret not in page


def test_a_long_project_id_is_shortened_but_whole_on_hover_and_in_the_search(admin_client):
    project = "23f4cb75768d4febb39542ef6fe169f3"
    token_create(project=project, name="ci")
    page = admin_client.get(URL).content.decode()
    assert f'<a class="catalog-id" href="?q={project}" title="{project}">23f4cb75…</a>' in page


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expires_at", "revoked_at", "status"),
    [
        (None, None, ("active", "active")),
        (NOW + timedelta(days=400), None, ("active", "active")),
        (NOW + timedelta(days=29, hours=23), None, ("expiring", "expires in 30 days")),
        (NOW + timedelta(days=9, hours=23, minutes=59), None, ("expiring", "expires in 10 days")),
        (NOW + timedelta(days=1), None, ("expiring", "expires in 1 day")),
        (NOW + timedelta(hours=3), None, ("expiring", "expires within a day")),
        (NOW, None, ("expired", "expired")),
        (NOW - timedelta(days=3), None, ("expired", "expired")),
        (None, NOW - timedelta(days=1), ("revoked", "revoked")),
        (NOW - timedelta(days=3), NOW - timedelta(days=5), ("revoked", "revoked")),
    ],
)
def test_status_says_what_the_api_does_with_a_token(expires_at, revoked_at, status):
    token = ApiToken(expires_at=expires_at, revoked_at=revoked_at)
    assert token_status(token, NOW) == status


def test_status_column_and_filter_agree(admin_client):
    now = timezone.now()
    names = {
        "forever": {},
        "next-year": {"expires_in_days": 365},
        "next-week": {"expires_in_days": 7},
        "over": {"expires_in_days": 1},
        "gone": {},
    }
    tokens = {
        name: token_create(project="p", name=name, **options)[0] for name, options in names.items()
    }
    ApiToken.objects.filter(name="over").update(expires_at=now - timedelta(hours=1))
    token_revoke(token=tokens["gone"])

    response = admin_client.get(URL)
    shown = {
        token.name: str(response.context["cl"].model_admin.status(token))
        for token in response.context["cl"].result_list
    }
    assert {name: re.sub(r"<[^>]+>", "", html) for name, html in shown.items()} == {
        "forever": "active",
        "next-year": "active",
        "next-week": "expires in 7 days",
        "over": "expired",
        "gone": "revoked",
    }
    filtered = {
        value: sorted(
            t.name for t in admin_client.get(URL, {"status": value}).context["cl"].result_list
        )
        for value in ("active", "expiring", "expired", "revoked")
    }
    assert filtered == {
        "active": ["forever", "next-week", "next-year"],  # what the API accepts
        "expiring": ["next-week"],
        "expired": ["over"],
        "revoked": ["gone"],
    }


def test_the_api_accepts_exactly_the_tokens_the_active_filter_lists(admin_client, client):
    secrets = {}
    for name, days in (("forever", None), ("soon", 7), ("over", 1), ("gone", None)):
        _, secrets[name] = token_create(project="p", name=name, expires_in_days=days)
    ApiToken.objects.filter(name="over").update(expires_at=timezone.now() - timedelta(hours=1))
    token_revoke(token=ApiToken.objects.get(name="gone"))
    active = {t.name for t in admin_client.get(URL, {"status": "active"}).context["cl"].result_list}
    accepted = {
        name
        for name, secret in secrets.items()
        if client.get("/v1.1/images/detail", HTTP_X_AUTH_TOKEN=secret).status_code == 200
    }
    assert active == accepted == {"forever", "soon"}


def test_create_shows_the_secret_once(admin_client):
    response = admin_client.post(
        URL + "add/",
        {
            "name": "ci-smoke",
            "project": "project-a",
            "roles": "reader, member",
            "expires_in_days": "30",
        },
    )
    token = ApiToken.objects.get(name="ci-smoke")
    assert response.url == f"{URL}{token.pk}/change/"
    first = admin_client.get(response.url).content.decode()
    secret = re.search(r'id="new-token-secret-value">([^<]+)</code>', first).group(1)
    assert token.secret_hash == hash_secret(secret)
    assert token.roles == "reader,member"
    assert token.expires_at is not None
    assert "shown on this page once" in first
    second = admin_client.get(response.url).content.decode()
    assert secret not in second
    assert secret not in admin_client.get(URL).content.decode()
    (entry,) = LogEntry.objects.filter(object_id=str(token.pk))
    assert entry.change_message.startswith("Created for project project-a with roles reader,member")


def test_a_name_is_made_up_when_left_empty(admin_client):
    admin_client.post(URL + "add/", {"name": "", "project": "project-a", "roles": "member"})
    token = ApiToken.objects.get()
    assert token.name == f"project-a-{token.prefix}"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"project": "", "roles": "member"}, "project", "Give the project id"),
        ({"project": "   ", "roles": "member"}, "project", "Give the project id"),
        ({"project": "p", "roles": " , "}, "roles", "at least one role"),
        ({"project": "p", "roles": "member, bad role!"}, "roles", "'bad role!' is not a role name"),
        (
            {"project": "p", "roles": "member", "expires_in_days": "0"},
            "expires_in_days",
            "at least one day",
        ),
        ({"project": "p", "roles": "member", "name": "taken"}, "name", "already exists"),
    ],
)
def test_create_refuses_bad_input_with_reasons(admin_client, data, field, message):
    token_create(project="p", name="taken")
    response = admin_client.post(URL + "add/", data)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert ApiToken.objects.count() == 1


def test_revoke_action(admin_client):
    live, _ = token_create(project="p", name="live")
    gone, _ = token_create(project="p", name="gone")
    response = admin_client.post(
        URL, {"action": "revoke_selected", "_selected_action": [live.pk, gone.pk]}, follow=True
    )
    assert "Revoked 2 tokens" in response.content.decode()
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert LogEntry.objects.filter(change_message__startswith="Revoked").count() == 2
    filtered = admin_client.get(URL, {"status": "active"})
    assert list(filtered.context["cl"].result_list) == []


def test_a_token_is_never_edited_nor_deleted(admin_client):
    token, _ = token_create(project="p", name="fixed")
    page = admin_client.get(f"{URL}{token.pk}/change/")
    assert page.status_code == 200
    assert "Save" not in page.content.decode()
    admin_client.post(f"{URL}{token.pk}/change/", {"name": "renamed", "project": "q"})
    assert admin_client.get(f"{URL}{token.pk}/delete/").status_code == 403
    choices = [
        value for value, _ in admin_client.get(URL).context["action_form"].fields["action"].choices
    ]
    assert "delete_selected" not in choices
    token.refresh_from_db()
    assert (token.name, token.project) == ("fixed", "p")


def test_a_token_made_in_the_admin_works_until_revoked_there(admin_client, client):
    response = admin_client.post(URL + "add/", {"project": "project-a", "roles": "member"})
    page = admin_client.get(response.url).content.decode()
    secret = re.search(r'id="new-token-secret-value">([^<]+)</code>', page).group(1)
    api = "/v1.1/images/detail"
    assert client.get(api, HTTP_X_AUTH_TOKEN=secret).status_code == 200
    token = ApiToken.objects.get()
    admin_client.post(URL, {"action": "revoke_selected", "_selected_action": [token.pk]})
    assert client.get(api, HTTP_X_AUTH_TOKEN=secret).status_code == 401
