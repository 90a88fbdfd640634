"""A newcomer's path through the API: create a read-and-write token in the browser, read the API
documentation page, then run the README's curl walkthrough, word for word, against the live server —
the proposal ends submitted, on the PI's dashboard."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from proposals.models import Proposal, ProposalState
from tests.factories import PASSWORD, CallFactory, InstituteFactory, UnitFactory, UserFactory
from tests.pdfs import pdf_bytes

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_walkthrough() -> str:
    text = README.read_text()
    block = text.split("<!-- api-walkthrough:start -->", 1)[1].split("<!-- api-walkthrough:end -->", 1)[0]
    script = block.split("```sh\n", 1)[1].rsplit("```", 1)[0]
    first, rest = script.split("\n", 1)
    assert first.startswith("IEA=http://127.0.0.1:8000 IEA_TOKEN="), first  # the test gives its own
    return rest


def create_token(page, base: str) -> str:
    page.get_by_role("link", name="API tokens").click()
    page.fill("input[name=name]", "my script")
    page.select_option("select[name=scopes]", "read write")
    page.get_by_role("button", name="Create the token").click()
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/api-tokens/$"))
    return page.locator("#new-token").inner_text()


def test_a_newcomer_creates_a_token_reads_the_docs_and_submits_with_the_readmes_curl(
        live_server, page, settings, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the README walkthrough needs {tool}"
    settings.LANGUAGE_CODE = "en"
    institute = InstituteFactory(code="INEE")
    UnitFactory(unit_type="UMR", number="5558", main_institute=institute)
    call = CallFactory()
    pi = UserFactory(email="pi@example.org", full_name="Paula Investigator")
    base = live_server.url
    csp_violations = []
    page.on("console", lambda message: csp_violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    sign_in(page, base, pi.email)
    secret = create_token(page, base)
    assert secret.startswith("iea_")

    page.get_by_role("link", name="Read the API documentation").click()
    page.wait_for_url(re.compile(r"/api/docs/$"))
    expect(page.locator(".swagger-ui .title")).to_contain_text("IEA platform API")
    expect(page.locator(".swagger-ui").get_by_text("/api/v1/proposals/{reference}/submit/")).to_be_visible()
    assert csp_violations == []

    (tmp_path / "support-letter.pdf").write_bytes(pdf_bytes(pages=2))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_walkthrough()], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env={"PATH": "/usr/bin:/bin", "IEA": base, "IEA_TOKEN": secret},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "[]"  # nothing blocks
    proposal = Proposal.objects.get(pi=pi, call=call)
    assert proposal.state == ProposalState.SUBMITTED and proposal.acronym == "COAST"
    assert f'"reference": "{proposal.reference}"' in result.stdout and '"version": 1' in result.stdout
    assert proposal.letters.get().cofunding_currency == "BRL"

    page.goto(f"{base}/dashboard/")
    expect(page.get_by_text("COAST").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Submitted")
