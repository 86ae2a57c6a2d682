"""Production mode: the settings refuse to start unsafe, and `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "images.example.com",
}


def manage(*args, **env):
    environment = {**os.environ, **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": ""}
    completed = manage("check", **env)
    assert completed.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in completed.stderr


def test_check_deploy_is_clean_with_production_variables():
    completed = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


def test_an_unknown_auth_mode_is_refused():
    completed = manage("check", CATALOG_AUTH="maybe")
    assert completed.returncode != 0
    assert "CATALOG_AUTH must be 'token' or 'none'" in completed.stderr


def test_the_login_lockout_reads_its_thresholds_from_the_environment():
    shown = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, "
        "settings.AXES_COOLOFF_TIME)",
        CATALOG_LOGIN_FAILURE_LIMIT="3",
        CATALOG_LOGIN_COOLOFF_MINUTES="2",
    )
    assert shown.stdout.split() == ["3", "0:02:00"], shown.stderr
    refused = manage("check", CATALOG_LOGIN_FAILURE_LIMIT="0")
    assert refused.returncode != 0
    assert "CATALOG_LOGIN_FAILURE_LIMIT and CATALOG_LOGIN_COOLOFF_MINUTES" in refused.stderr
