"""The production stack as docker-compose.yml writes it, run as local processes (tests/stack/stack.py), used
as its operator and its users would: healthy services, nginx serving static files and letters, a PI's
submission through nginx whose receipt reaches the SMTP server once, a worker killed mid-batch and Redis
restarted without a mail lost or sent twice, a backup restored into a fresh database, a damaged one refused,
and logs that are one JSON object a line and hold no secret.

``make stack-test`` runs it (CI too: .ci/run); it needs root (the app and nginx's workers run as other
users), Debian's nginx, redis-server, PostgreSQL of the compose file's major version, openssl and Chromium.
One stack serves the whole module; its tests run in order, each building on the previous one.
"""

import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import tarfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from iea.site.demo.management.commands._demo_data import PASSWORD as DEMO_PASSWORD
from tests.archives import rebuild
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.test_api_walkthrough import readme_walkthrough
from tests.pdfs import pdf_bytes

from .smtp import serve
from .stack import APP_USER, ROOT, Stack, free_port

pytestmark = pytest.mark.stack

PI = "pi@demo.iea.localhost"
SUBSCRIBERS = 30
RECOVERY = 150  # seconds: every mail of the interrupted batch must have arrived by then


def _readme_block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    block = text.split(f"<!-- {marker}:start -->", 1)[1].split(f"<!-- {marker}:end -->", 1)[0]
    return block.split("```sh\n", 1)[1].rsplit("```", 1)[0]


def _wait(condition, what: str, timeout: float, stack: Stack | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout} s" + (f"\n{stack.logs('worker', 'beat')[-6000:]}" if stack else ""))


def _requirements() -> None:
    if os.geteuid() != 0:
        pytest.fail("The stack test runs the app and nginx's workers as other users: run it as root (CI does).")
    for tool in ("nginx", "redis-server", "redis-cli", "openssl", "psql", "pg_isready", "curl", "jq", "bash"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            pytest.fail(f"The stack test needs {tool} (README, \"Tests\").")
    chromium_path()


@pytest.fixture(scope="module")
def mailbox():
    port = free_port()
    controller, box = serve(port)
    box.port = port
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def stack(mailbox):
    _requirements()
    stack = Stack.create(smtp_port=mailbox.port)
    try:
        values = stack.operator_env()
        # The operator's .env: .env.example with its placeholders replaced, line by line.
        lines = []
        for line in (ROOT / ".env.example").read_text().splitlines():
            key = line.split("=", 1)[0]
            lines.append(f"{key}={values[key]}" if "=" in line and not line.startswith("#") and key in (
                "SERVER_NAME", "SECRET_KEY", "POSTGRES_PASSWORD", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS") else line)
        lines += [f"HTTP_PORT={values['HTTP_PORT']}", f"HTTPS_PORT={values['HTTPS_PORT']}"]
        (stack.work / ".env").write_text("\n".join(lines) + "\n")
        # The README's self-signed certificate, word for word, from the folder holding .env.
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", _readme_block("self-signed")], cwd=stack.work,
                                capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]})
        assert result.returncode == 0, result.stderr
        stack.up()
        yield stack
    finally:
        stack.down()
        if os.environ.get("KEEP_STACK") != "1":
            shutil.rmtree(stack.work, ignore_errors=True)
        else:
            print(f"stack kept in {stack.work}")


@pytest.fixture(scope="module")
def base(stack) -> str:
    return f"https://localhost:{stack.ports['https']}"


@pytest.fixture(scope="module")
def http(stack):
    trust = ssl.create_default_context(cafile=str(stack.work / "deploy" / "certs" / "fullchain.pem"))
    with httpx.Client(verify=trust, timeout=30) as client:
        yield client


def _repeated_headers(response) -> list[str]:
    counts = Counter(name.lower() for name, _value in response.headers.multi_items())
    return sorted(name for name, count in counts.items() if count > 1 and name != "set-cookie")


def test_every_service_is_healthy_and_ready_behind_nginx(stack, base, http):
    for name in ("postgres", "redis", "web", "worker", "beat", "nginx"):
        assert stack.healthcheck(name), name
    ready = http.get(f"{base}/readyz")
    assert ready.status_code == 200, ready.text
    plain = http.get(f"http://localhost:{stack.ports['http']}/calls/?x=1", follow_redirects=False)
    assert (plain.status_code, plain.headers["location"]) == (301, f"{base}/calls/?x=1")


def test_nginx_serves_the_static_files_and_its_own_pages_with_one_of_each_header(stack, base, http):
    manifest = json.loads((stack.work / "data" / "static" / "staticfiles.json").read_text())
    css = http.get(f"{base}/static/{manifest['paths']['css/app.css']}")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.content == (stack.work / "data" / "static" / manifest["paths"]["css/app.css"]).read_bytes()
    assert css.headers["cache-control"] == "public, max-age=2592000, immutable"
    page = http.get(f"{base}/accounts/login/")
    missing = http.get(f"{base}/static/nothing-here.css")
    too_big = http.post(f"{base}/accounts/login/", content=b"x" * (13 * 1024 * 1024))
    assert (page.status_code, missing.status_code, too_big.status_code) == (200, 404, 413)
    for response in (css, page, missing, too_big):
        assert _repeated_headers(response) == [], response.url
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert "content-security-policy" in response.headers, response.url
    assert "default-src 'none'" in too_big.headers["content-security-policy"]  # nginx's own page
    assert "default-src 'none'" not in page.headers["content-security-policy"]  # the app's


def _create_token(page, base: str) -> str:
    page.goto(f"{base}/accounts/api-tokens/")
    page.fill("input[name=name]", "stack test")
    page.select_option("select[name=scopes]", "read write")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/api-tokens/$"))
    return page.locator("#new-token").inner_text()


@pytest.fixture(scope="module")
def browser(stack):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _new_page(browser):
    """A new visitor (the stack's certificate is self-signed, as in the README's trial), in French."""
    context = browser.new_context(ignore_https_errors=True, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(30_000)
    return context.new_page()


@pytest.fixture(scope="module")
def browser_page(browser):
    return _new_page(browser)


def test_the_first_administrator_gets_the_verification_mail_and_reaches_the_admin(stack, base, browser, mailbox):
    """README, "From nothing to a running stack": createsuperuser, then the first sign-in, which needs the
    address verified by a mail that must leave by SMTP; then two-factor set-up before the admin."""
    email = "director@stack.example.org"
    env = {**stack.service_env("web"), "DJANGO_SUPERUSER_PASSWORD": "a-long-stack-password-2027"}
    stack.run("web", ["python", "manage.py", "createsuperuser", "--noinput", "--email", email], env=env)
    page = _new_page(browser)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "a-long-stack-password-2027")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    mails = _wait(lambda: [m for m in mailbox.messages() if m.to == (email,)], "the verification mail", 60, stack)
    link = re.search(r"(https://\S+/accounts/confirm-email/\S+/)", mails[0].text).group(1)
    assert link.startswith(f"{base}/")  # the published HTTPS port, not 443
    page.goto(link)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/accounts/confirm-email/" not in url and "/accounts/login/" not in url)
    page.goto(f"{base}/admin/")
    if "/accounts/reauthenticate/" in page.url:  # allauth asks for the password again before a 2FA set-up
        page.fill("input[name=password]", "a-long-stack-password-2027")
        page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert page.locator("input[name=code]").count() == 1
    assert len([m for m in mailbox.messages() if m.to == (email,)]) == 1
    page.context.close()


@pytest.fixture(scope="module")
def submitted(stack, base, browser_page, mailbox):
    """The demo, then the PI's proposal submitted through nginx with the README's curl walkthrough."""
    stack.run("web", ["python", "manage.py", "seed_demo"])
    page = browser_page
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", PI)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    token = _create_token(page, base)
    letter = pdf_bytes(pages=2)
    (stack.work / "walkthrough").mkdir()
    (stack.work / "walkthrough" / "support-letter.pdf").write_bytes(letter)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_walkthrough()], cwd=stack.work / "walkthrough", capture_output=True,
        text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "IEA": base, "IEA_TOKEN": token,
                                     "CURL_CA_BUNDLE": str(stack.work / "deploy" / "certs" / "fullchain.pem")})
    assert result.returncode == 0, result.stdout + result.stderr
    reference = re.search(r'"reference": "([^"]+)"', result.stdout).group(1)
    return {"reference": reference, "letter": letter, "token": token}


def _receipts(mailbox, reference: str) -> list:
    return [m for m in mailbox.messages() if m.to == (PI,) and reference in m.subject
            and any(a.startswith(b"%PDF") for a in m.attachments)]


def test_a_pi_submits_through_nginx_and_the_receipt_arrives_once(stack, mailbox, submitted):
    receipts = _wait(lambda: _receipts(mailbox, submitted["reference"]), "the receipt", 60, stack)
    assert len(receipts) == 1
    assert submitted["reference"] in receipts[0].text


def test_the_pi_downloads_the_letter_through_nginx(stack, base, browser_page, submitted):
    proposal = stack.psql(f"SELECT id FROM proposals_proposal WHERE reference = '{submitted['reference']}'")
    letter = stack.psql(f"SELECT id FROM proposals_supportletter WHERE proposal_id = {proposal}")
    response = browser_page.request.get(f"{base}/proposals/{proposal}/letters/{letter}/")
    assert response.status == 200, response.text()[:500]
    assert response.body() == submitted["letter"]
    headers = response.headers_array
    names = Counter(h["name"].lower() for h in headers)
    assert [n for n, c in names.items() if c > 1 and n != "set-cookie"] == []
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-type"] == "application/pdf"
    assert "x-accel-redirect" not in response.headers
    # The file on disk: written by the app's user, read by nginx's through the group only.
    path = stack.psql(f"SELECT file FROM proposals_supportletter WHERE id = {letter}")
    stat = (stack.work / "data" / "private" / path).stat()
    assert oct(stat.st_mode & 0o777) == "0o640"


def _announcements(mailbox) -> Counter:
    return Counter(m.to[0] for m in mailbox.messages() if m.to[0].startswith("subscriber"))


def test_a_worker_killed_mid_batch_and_redis_restarted_lose_no_mail_and_send_none_twice(stack, mailbox, submitted):
    """The call's announcement to 30 new subscribers goes out in one batch; the worker is killed while it
    waits at the SMTP server between two messages, Redis is killed and restarted (compose restarts both);
    every subscriber gets the announcement exactly once, within RECOVERY seconds."""
    emails = [f"subscriber{n}@stack.example.org" for n in range(SUBSCRIBERS)]
    script = (
        "from django.utils import timezone\nfrom django.contrib.auth import get_user_model\n"
        "from iea.accounts.domain import announcements_set\n"
        f"for email in {emails!r}:\n"
        "    user = get_user_model().objects.create_user(email=email, full_name=email.split('@')[0], language='en')\n"
        "    user.emailaddress_set.create(email=email, verified=True, primary=True)\n"
        "    announcements_set(user=user, subscribed=True, now=timezone.now(), via='stack test')\n"
    )
    mailbox.hold_at(emails[4])
    stack.run("web", ["python", "manage.py", "shell", "-c", script])
    _wait(mailbox.holding.is_set, "the worker at the SMTP server, naming the 5th subscriber", 120, stack)
    killed = time.monotonic()
    assert len(_announcements(mailbox)) < SUBSCRIBERS
    stack.kill("worker")
    stack.kill("redis")
    mailbox.release()
    stack.up_redis()  # restart: unless-stopped
    stack.up_app("worker")
    _wait(lambda: set(_announcements(mailbox)) == set(emails), "every announcement", RECOVERY, stack)
    recovered = time.monotonic() - killed
    rows = _wait(lambda: (lambda r: r if r == f"sent|{SUBSCRIBERS}" else None)(stack.psql(
        "SELECT state, count(*) FROM notifications_notification WHERE email LIKE 'subscriber%' GROUP BY state")),
        "every row sent", 30)
    assert rows == f"sent|{SUBSCRIBERS}"
    assert _announcements(mailbox) == Counter(dict.fromkeys(emails, 1))
    print(f"recovered in {recovered:.0f} s")
    assert recovered < RECOVERY


def _state(stack, database: str) -> dict:
    tables = stack.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database=database).split()
    return {table: int(stack.psql(f'SELECT count(*) FROM "{table}"', database=database)) for table in tables}


def _damaged_copy(archive: Path, target: Path, dump) -> None:
    """A copy of ``archive`` whose database dump goes through ``dump``, its manifest made to match (so only
    what reads the dump itself can find the damage)."""
    shutil.copyfile(archive, target)
    rebuild(target, dump=dump)
    shutil.chown(target, APP_USER)


def test_a_backup_restores_into_a_fresh_database_and_a_damaged_one_changes_nothing(stack, submitted):
    result = stack.run("web", ["python", "manage.py", "backup"])
    archive = Path(re.search(r"(/\S+\.tar\.gz)", result.stdout + result.stderr).group(1))
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    stack.psql("CREATE DATABASE iea_restored", database="postgres")
    restored_files = stack.work / "restored" / "private"
    subprocess.run(["sh", str(ROOT / "deploy" / "data-folders.sh"), str(restored_files.parent), APP_USER, "0"], check=True)
    env = {**stack.service_env("web"), "PRIVATE_MEDIA_ROOT": str(restored_files.parent / "private"),
           "DATABASE_URL": stack.service_env("web")["DATABASE_URL"].rsplit("/", 1)[0] + "/iea_restored"}
    result = stack.run("web", ["python", "manage.py", "restore", str(archive)], env=env)
    assert "all equal" in result.stdout
    assert _state(stack, "iea_restored") == manifest["tables"]
    files = {name for name in manifest["files"] if name.startswith("media/")}
    assert files and all(
        hashlib.sha256((restored_files / name.removeprefix("media/")).read_bytes()).hexdigest()
        == manifest["files"][name]["sha256"] for name in files)

    before = _state(stack, "iea_restored")
    cut = stack.work / "data" / "backups" / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    shutil.chown(cut, APP_USER)
    newer = stack.work / "data" / "backups" / "newer.tar.gz"
    _damaged_copy(archive, newer, lambda dump: dump[:5] + bytes([1, 99, 0]) + dump[8:])
    truncated = stack.work / "data" / "backups" / "truncated.tar.gz"
    _damaged_copy(archive, truncated, lambda dump: dump[: len(dump) * 2 // 3])
    for damaged in (cut, newer, truncated):
        result = stack.run("web", ["python", "manage.py", "restore", str(damaged), "--force"], env=env, check=False)
        assert result.returncode != 0, damaged.name
        assert "all equal" not in result.stdout
        assert _state(stack, "iea_restored") == before, damaged.name


def test_every_line_the_app_logs_is_json_and_none_holds_a_mail_or_a_link_secret(stack, mailbox, submitted):
    lines = {name: stack.logs(name).splitlines() for name in ("web", "worker", "beat")}
    assert all(lines.values())
    not_json = []
    for name, found in lines.items():
        for line in found:
            try:
                assert isinstance(json.loads(line), dict)
            except (ValueError, AssertionError):
                not_json.append(f"{name}: {line[:200]}")
    assert not_json == []
    access = [json.loads(line) for line in lines["web"] if '"gunicorn.access"' in line]
    assert access and all(entry.get("request_id") for entry in access)
    nginx = [json.loads(line) for line in stack.logs("nginx").splitlines() if line.startswith("{")]
    assert nginx and all(entry["request_id"] for entry in nginx)

    everything = stack.logs()
    secrets = {submitted["token"]}
    for message in mailbox.messages():
        secrets.update(re.findall(r"/(?:partner|cosign|unsubscribe|confirm-email|key)/([^/\s]+)/", message.text))
        for line in message.text.splitlines():
            if len(line.strip()) > 60:
                secrets.add(line.strip())
    secrets.update(re.findall(rb"\n([A-Za-z0-9+/]{76})\r?\n", b"".join(m.raw for m in mailbox.messages())))
    leaked = sorted(str(secret)[:80] for secret in secrets if (secret.decode() if isinstance(secret, bytes) else secret) in everything)
    assert leaked == []
