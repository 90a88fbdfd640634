"""The crawl: every page each role can reach, in French and English, on a desktop and a phone, in Chromium.

For each role it signs in once (the two-factor step included), finds the pages (the targets' URLs, then every
link on the pages it finds, one per URL shape), and renders each page in four browser contexts that share the
signed-in state. On every page it checks what a person would stumble on (``checks.js``, axe-core, the
console, the language) and writes a full-page screenshot to ``<out>/<role>/<lang>-<size>/`` with an index.
"""

import asyncio
import html
import json
import re
import time
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from axe_playwright_python import sync_playwright as _axe_module
from playwright.async_api import async_playwright

from .language import Catalogue

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("fr", "en")
CHECKS_JS = (Path(__file__).parent / "checks.js").read_text()
AXE_JS = (Path(_axe_module.__file__).parent / "axe.min.js").read_text()
# Recorded before any script of the page runs: the policy's refusals, which the console may word differently.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(`${e.violatedDirective} ${e.blockedURI || "inline"} ${e.sourceFile || ""}:${e.lineNumber || ""}`);
});"""
# Links that are not pages to look at: they sign out, switch the language, download or leave the site.
SKIPPED_PATHS = re.compile(
    r"^/(accounts/logout/|admin/logout/|i18n/|static/|media/|api/v1/|api/schema/|admin/r/|jsi18n/|admin/jsi18n/"
    r"|calendar/)|\.(pdf|xlsx|ics|csv|zip|json)$"
)
# Only the link's own pages for the visitors who come through a mailed link.
LINK_ROLES = {"partner": "/proposals/partner/", "cosigner": "/awards/cosign/"}
MAX_PAGES_PER_ROLE = 400
SEED_PAGES_PER_SHAPE = 2
AXE_IMPACTS = ("serious", "critical")
# No CSS preload: axe re-reads @import-ed style sheets (the admin's forms.css imports widgets.css) by inserting
# <style> elements, which the strict CSP refuses; only the orientation-lock rule needs them.
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}
# Pages that draw their content after "load": looked at once it is there.
DRAWN_LATER = {"/api/docs/": ".swagger-ui .opblock"}


@dataclass
class Finding:
    role: str
    variant: str
    url: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.role} {self.variant}] {self.url} — {self.kind}: {self.detail}"


@dataclass
class Result:
    pages: dict[str, list[str]] = field(default_factory=dict)  # role → paths rendered
    findings: list[Finding] = field(default_factory=list)
    renders: int = 0
    seconds: float = 0.0


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href and not href.startswith(("#", "mailto:", "tel:", "javascript:")):
                self.hrefs.append(href)


def shape(path: str) -> str:
    """Pages of one kind share a shape: ids become N, tokens T, the query keeps its keys only. In the admin a filtered or
    sorted list is its list, and the history and delete pages share one template across models."""
    parts = urlsplit(path)
    generic = re.sub(r"/[\w:.-]{20,}/", "/T/", parts.path)  # a signed token
    generic = re.sub(r"\d+", "N", generic)
    if generic.startswith("/admin/"):
        return re.sub(r"^/admin/\w+/\w+/N/(history|delete)/$", r"/admin/*/*/N/\1/", generic)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return generic + ("?" + "&".join(keys) if keys else "")


def slug(path: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    return (text or "home")[:120]


class Crawler:
    def __init__(self, *, base_url: str, targets: dict, out: Path, concurrency: int = 3,
                 languages=LANGUAGES, sizes=tuple(SIZES), two_factor_code=None, log=print):
        self.base = base_url.rstrip("/")
        self.targets = targets
        self.out = out
        self.concurrency = concurrency
        self.languages = languages
        self.sizes = sizes
        self.two_factor_code = two_factor_code
        self.log = log
        self.catalogue = Catalogue.load()
        self.result = Result()

    # --- signing in and finding the pages -------------------------------------------------------------------
    async def sign_in(self, browser, role: str) -> dict | None:
        login = self.targets["roles"].get(role)
        if not login:
            return None
        context = await browser.new_context(locale="en-GB")
        page = await context.new_page()
        await page.goto(f"{self.base}/accounts/login/")
        await page.fill("input[name=login]", login["email"])
        await page.fill("input[name=password]", login["password"])
        await page.locator("form button[type=submit]").last.click()
        await page.wait_for_url(lambda url: "/accounts/login/" not in url)
        if login["two_factor"]:
            await page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
            await page.fill("input[name=code]", self.two_factor_code())
            await page.locator("input[name=code]").press("Enter")
            await page.wait_for_url(lambda url: "/accounts/2fa/" not in url)
        state = await context.storage_state()
        await context.close()
        return state

    def seeds(self, role: str) -> list[str]:
        urls = self.targets["urls"]
        if role == "partner":
            return urls.get("proposals:partner", []) + urls.get("proposals:partner_letter", [])
        if role == "cosigner":
            return urls.get("funding:cosign", [])
        return [u for name, found in urls.items() if name not in ("proposals:partner", "proposals:partner_letter", "funding:cosign")
                for u in found]

    def keep(self, role: str, path: str) -> bool:
        if SKIPPED_PATHS.search(urlsplit(path).path):
            return False
        prefix = LINK_ROLES.get(role)
        return prefix is None or path.startswith(prefix)

    async def discover(self, request, role: str) -> list[str]:
        """The HTML pages the role reaches: the seeds (up to ``SEED_PAGES_PER_SHAPE`` of a shape, in different
        states), then the links on them (one page per shape)."""
        seeds = list(dict.fromkeys(self.seeds(role)))
        queue = [(path, SEED_PAGES_PER_SHAPE) for path in seeds]
        queued, found, pages = set(seeds), {}, []
        while queue and len(pages) < MAX_PAGES_PER_ROLE:
            path, allowed = queue.pop(0)
            if found.get(shape(path), 0) >= allowed:
                continue  # a page of this shape is already in
            response = await request.get(self.base + path, max_redirects=5, fail_on_status_code=False)
            final = urlsplit(response.url)
            final_path = final.path + (f"?{final.query}" if final.query else "")
            if response.status >= 500:
                self.result.findings.append(Finding(role, "http", path, "server-error", f"{response.status}"))
                continue
            if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
                continue
            if urlsplit(self.base).netloc != final.netloc or final_path in pages:
                continue
            if found.get(shape(final_path), 0) >= allowed:
                continue
            if role not in LINK_ROLES and final.path.startswith("/accounts/login/") and not path.startswith("/accounts/login/"):
                continue  # not this role's page: the sign-in page is crawled for its own sake
            found[shape(final_path)] = found.get(shape(final_path), 0) + 1
            pages.append(final_path)
            parser = _Links()
            parser.feed(await response.text())
            for href in parser.hrefs:
                target = urlsplit(urljoin(self.base + final_path, href))
                if target.netloc != urlsplit(self.base).netloc:
                    continue
                link = target.path + (f"?{target.query}" if target.query else "")
                if link not in queued and self.keep(role, link) and not found.get(shape(link)):
                    queued.add(link)
                    queue.append((link, 1))
        return pages

    # --- looking at each page -------------------------------------------------------------------------------
    async def look(self, context, role: str, variant: str, language: str, path: str, index: list) -> None:
        page = await context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        add = lambda kind, detail: self.result.findings.append(Finding(role, variant, path, kind, detail))  # noqa: E731
        try:
            response = await page.goto(self.base + path, wait_until="load")
            if response is None or response.status >= 400:
                add("status", f"{response.status if response else 'no answer'} (answered 200 when found)")
            if path in DRAWN_LATER:
                await page.wait_for_selector(DRAWN_LATER[path])
            report = await page.evaluate(CHECKS_JS)
            for item in report["found"]:
                add(item["kind"], item["detail"])
            for text in self.catalogue.foreign(language=language, text=report["text"], chrome=report["chrome"]):
                add("language", f"{'English' if language == 'fr' else 'French'} on the {language} page: {text!r}")
            await page.evaluate(AXE_JS)
            axe = await page.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
            for violation in axe["violations"]:
                if violation.get("impact") in AXE_IMPACTS:
                    targets = [node["target"] for node in violation["nodes"]][:3]
                    add("axe", f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
            for refused in await page.evaluate("window.__csp || []"):
                add("csp", refused)
            for error in errors:
                add("console", error[:300])
            shot = self.out / role / variant / f"{slug(path)}.jpg"
            shot.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=60)
            index.append({"role": role, "variant": variant, "path": path, "title": report["title"],
                          "shot": str(shot.relative_to(self.out))})
            self.result.renders += 1
        except Exception as exc:  # noqa: BLE001 - a page that cannot be looked at is a finding, not a crash
            add("crawl", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        finally:
            await page.close()

    async def crawl_role(self, browser, role: str, index: list) -> None:
        # One sign-in at a time: allauth counts sign-ins per address under a cache lock it waits for 1 s at
        # most, then answers 429; the crawl's roles all sign in from one address while pages load.
        async with self.signing_in:
            state = await self.sign_in(browser, role)
        request_context = await self._context(browser, state, "fr", "desktop")
        pages = await self.discover(request_context.request, role)
        await request_context.close()
        self.result.pages[role] = pages
        self.log(f"crawl: {role}: {len(pages)} pages × {len(self.languages) * len(self.sizes)} variants")
        contexts = []

        async def one(context, variant, language, path):
            async with self.limit:
                await self.look(context, role, variant, language, path, index)

        jobs = []
        for language in self.languages:
            for size in self.sizes:
                context = await self._context(browser, state, language, size)
                contexts.append(context)
                jobs += [one(context, f"{language}-{size}", language, path) for path in pages]
        await asyncio.gather(*jobs)
        for context in contexts:
            await context.close()

    async def _context(self, browser, state, language: str, size: str):
        context = await browser.new_context(
            storage_state=state, locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
            viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone",
        )
        host = urlsplit(self.base).hostname
        await context.add_cookies([{"name": "django_language", "value": language, "domain": host, "path": "/"}])
        await context.add_init_script(CSP_LISTENER)
        context.set_default_timeout(30_000)
        return context

    async def run(self, roles: list[str], *, executable_path: str, args: list[str]) -> Result:
        started = time.monotonic()
        index: list[dict] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=executable_path, args=args, headless=True)
            self.limit = asyncio.Semaphore(self.concurrency)
            self.signing_in = asyncio.Lock()
            await asyncio.gather(*(self.crawl_role(browser, role, index) for role in roles))
            await browser.close()
        self.result.seconds = time.monotonic() - started
        self.write_index(index)
        return self.result

    def write_index(self, index: list[dict]) -> None:
        """``<out>/index.html``: every screenshot, by role and variant, with its findings beside it."""
        self.out.mkdir(parents=True, exist_ok=True)
        by_page: dict[tuple, list[str]] = {}
        for finding in self.result.findings:
            by_page.setdefault((finding.role, finding.variant, finding.url), []).append(f"{finding.kind}: {finding.detail}")
        rows = []
        for role in dict.fromkeys(entry["role"] for entry in index):
            rows.append(f"<h2 id='{role}'>{html.escape(role)}</h2><div class='grid'>")
            for entry in sorted((e for e in index if e["role"] == role), key=lambda e: (e["path"], e["variant"])):
                problems = by_page.get((role, entry["variant"], entry["path"]), [])
                notes = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
                rows.append(
                    f"<figure class='{'bad' if problems else 'ok'}'><a href='{html.escape(entry['shot'])}'>"
                    f"<img loading='lazy' src='{html.escape(entry['shot'])}' alt=''></a><figcaption>"
                    f"<b>{html.escape(entry['path'])}</b> {entry['variant']}<br>{html.escape(entry['title'])}"
                    f"<ul>{notes}</ul></figcaption></figure>")
            rows.append("</div>")
        style = ("body{font:14px system-ui;margin:1rem}.grid{display:grid;grid-template-columns:repeat(auto-fill,"
                 "minmax(220px,1fr));gap:1rem}figure{margin:0;border:2px solid #ccc;padding:.3rem}figure.bad"
                 "{border-color:#c00}img{width:100%;height:260px;object-fit:cover;object-position:top}"
                 "figcaption{overflow-wrap:anywhere}")
        summary = (f"{sum(len(p) for p in self.result.pages.values())} pages, {self.result.renders} renders, "
                   f"{len(self.result.findings)} findings, {self.result.seconds:.0f} s")
        nav = " · ".join(f"<a href='#{r}'>{r}</a>" for r in self.result.pages)
        (self.out / "index.html").write_text(
            f"<!DOCTYPE html><meta charset='utf-8'><title>IEA screens</title><style>{style}</style>"
            f"<h1>IEA screens</h1><p>{summary}</p><p>{nav}</p>{''.join(rows)}")
        (self.out / "findings.json").write_text(json.dumps([asdict(f) for f in self.result.findings], indent=1))
