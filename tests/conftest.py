import pytest
from django.test import Client

from catalog import database
from catalog.tokens import token_create

from .browser import chromium
from .factories import ImageFactory
from .server import ProductionServer, ServerDatabase

PROJECT_A = "project-a"
PROJECT_B = "project-b"
ADMIN_PROJECT = "project-admin"


@pytest.fixture(autouse=True)
def no_request_left_open():
    """A request's database deadline ends with the request (catalog/database.py): one left
    behind would cut off the next test's database work at a moment that depends on timing."""
    assert not database.in_request(), "a request's database deadline outlived the request"
    yield
    assert not database.in_request(), "a request's database deadline outlived the request"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Staff users' passwords are hashed in many tests; the default hasher takes a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a module's browser tests, gone (with its event loop) when they end."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def image_factory(db):
    return ImageFactory()


@pytest.fixture
def make_token(db):
    def make(project=PROJECT_A, roles=("member",), **kwargs):
        return token_create(project=project, roles=roles, **kwargs)

    return make


class ApiClient(Client):
    """Django's test client speaking as one token (or as nobody)."""

    def __init__(self, token=None):
        super().__init__()
        self.token = token

    def request(self, **request):
        if self.token is not None:
            request.setdefault("HTTP_X_AUTH_TOKEN", self.token)
        return super().request(**request)


@pytest.fixture
def api_as(make_token):
    """`api_as(project, roles)` is a client for a new token of that project and roles."""

    def client(project=PROJECT_A, roles=("member",)):
        _, secret = make_token(project=project, roles=roles)
        return ApiClient(secret)

    return client


@pytest.fixture
def member_api(api_as):
    return api_as(PROJECT_A, ("member",))


@pytest.fixture
def admin_api(api_as):
    return api_as(ADMIN_PROJECT, ("admin",))


@pytest.fixture
def anonymous_api(db):
    return ApiClient()


@pytest.fixture(scope="session")
def server_database(tmp_path_factory):
    """A database of its own for server subprocesses, migrated by the first server."""
    database = ServerDatabase(tmp_path_factory.mktemp("server"))
    database.create()
    yield database
    database.drop()


@pytest.fixture(scope="session")
def production_server(server_database):
    """The production server, shared by the whole session: add tokens and images, change none."""
    with ProductionServer(server_database) as server:
        yield server


@pytest.fixture
def start_server(server_database):
    """`start_server(**env)` starts another production server (same database) for one test."""
    started = []

    def start(**env):
        server = ProductionServer(server_database, **env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
