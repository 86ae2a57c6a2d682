"""imsproject.serve.server_config(): production's Hypercorn configuration, for any application.

scripts/benchmark.py serves its raw floor with it, so that the floor and the service differ
only in the application: the limits, workers and timers must be the same.
"""

from imsproject.serve import APPLICATION, MAX_REQUEST_BODY, MAX_REQUEST_HEAD, server_config

OTHER = "wsgi:elsewhere:application"


def limits(config) -> dict:
    return {
        name: getattr(config, name)
        for name in (
            "bind",
            "workers",
            "h11_max_incomplete_size",
            "wsgi_max_body_size",
            "keep_alive_timeout",
            "graceful_timeout",
            "access_log_format",
        )
    }


def test_production_serves_the_project():
    config = server_config()
    assert config.application_path == APPLICATION
    assert config.h11_max_incomplete_size == MAX_REQUEST_HEAD
    assert config.wsgi_max_body_size == MAX_REQUEST_BODY


def test_another_application_gets_the_same_configuration(settings):
    settings.SERVER_WORKERS = 3
    settings.SERVER_HEADER_READ_TIMEOUT = 7.5
    other = server_config(OTHER)
    assert other.application_path == OTHER
    assert limits(other) == limits(server_config())
    assert (other.workers, other.keep_alive_timeout) == (3, 7.5)
