"""What can be checked of the container stack without a Docker engine: the compose file, the settings its
services run with, and the commands they start."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def app_environment() -> dict[str, str]:
    """The web service's environment with the ${VAR:-default} defaults resolved, as compose would."""
    env = compose()["services"]["web"]["environment"]
    resolved = {}
    for key, value in env.items():
        value = str(value)
        value = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: {"SECRET_KEY": secrets.token_urlsafe(50)}.get(m.group(1), "x"), value)
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), value)
        resolved[key] = value
    return resolved


def run(args, env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    full_env.update(env)
    return subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def test_every_long_running_service_has_a_health_check():
    services = compose()["services"]
    assert sorted(services) == ["beat", "migrate", "postgres", "redis", "web", "worker"]
    assert [name for name, s in services.items() if name != "migrate" and "healthcheck" not in s] == []


def test_redis_never_evicts_queued_messages():
    assert "noeviction" in compose()["services"]["redis"]["command"]


def test_web_runs_with_production_settings_that_pass_the_deploy_check():
    env = app_environment()
    assert env["DEBUG"] == "0"
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_and_worker_commands_load():
    env = app_environment()
    services = compose()["services"]
    module, attribute = services["web"]["command"][1].split(":")
    result = run([sys.executable, "-c", f"import {module} as m; assert callable(m.{attribute})"], env)
    assert result.returncode == 0, result.stderr
    assert services["worker"]["command"][:4] == ["celery", "-A", "iea", "worker"]
    assert "--beat" not in services["worker"]["command"] and "-B" not in services["worker"]["command"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "iea", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    result = run([sys.executable, "-c", "from iea.celery import app; print(app.conf.broker_url, app.conf.task_always_eager)"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://redis:6379/0", "False"]
    result = run([sys.executable, "-c", "from iea.celery import app; app.loader.import_default_modules(); "
                  "entry = app.conf.beat_schedule['dispatch-due-notifications']; "
                  "print(entry['task'] in app.tasks, entry['schedule'])"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "120"]


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in app_environment().items() if k != "SECRET_KEY"}
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
