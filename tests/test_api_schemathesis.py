"""schemathesis against /openapi.json, in-process: every check, a bounded and repeatable run.

The document must tell the truth about every answer: statuses, content types, bodies and the
parameters the API accepts or refuses. The configuration beside the project
(schemathesis.toml) holds what a schema cannot say; docs/limits.md has the long run.
"""

from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from catalog.services import MemberData, image_soft_delete

from .conftest import ADMIN_PROJECT, PROJECT_A, PROJECT_B

CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def catalog(image_factory):
    """A few images of every kind the listings and HEAD treat differently."""
    image_factory(name="cirros", properties={"__os_type": "Linux", "app": "web"})
    image_factory(name="private", is_public=False, owner=PROJECT_A, disk_format=None)
    image_factory(
        name="shared", is_public=False, owner=PROJECT_B, members=[MemberData(member_id=PROJECT_A)]
    )
    image_factory(name=None, size=None, checksum=None, container_format=None, protected=True)
    image_factory(name="windows", properties={"__os_type": "Windows"})
    image_soft_delete(image=image_factory(name="gone", properties={"k": "v"}))


@pytest.fixture(autouse=True)
def keep_the_tests_connection():
    """Called directly, the WSGI app closes the database connection as each request ends
    (close_old_connections), and with it the test's transaction; Django's test client
    switches that off in the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tokens(make_token, catalog):
    """A member's and an admin's: the admin's listings take other paths (is_public=none...)."""
    return {
        role: make_token(project=project, roles=(role,))[1]
        for project, role in ((PROJECT_A, "member"), (ADMIN_PROJECT, "admin"))
    }


def answered_and_closed(application):
    """The WSGI app with each answer read and closed before it is returned.

    Closing the answer is what sends Django's request_finished, which ends the request's
    database deadline (catalog/database.py). schemathesis reads the document without closing
    it, and the deadline it left behind then cut off whatever the test run asked of the
    database a few seconds later, such as creating the test database.
    """

    def app(environ, start_response):
        answer = application(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            answer.close()

    return app


# Loaded once, at collection: generating the document needs no database.
schema = schemathesis.openapi.from_wsgi(
    "/openapi.json",
    answered_and_closed(get_wsgi_application()),
    config=schemathesis.Config.from_path(CONFIG),
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the same requests on every run
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_every_answer_matches_the_document(case, tokens):
    for token in tokens.values():
        case.call_and_validate(headers={"X-Auth-Token": token})
