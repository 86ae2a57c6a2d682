import pytest

from catalog.services import token_create

from .factories import ImageFactory


@pytest.fixture
def image_factory(db):
    return ImageFactory()


@pytest.fixture
def make_token(db):
    def make(project="project-a", roles=("member",), **kwargs):
        return token_create(project=project, roles=roles, **kwargs)

    return make
