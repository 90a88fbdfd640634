"""``python -m tests.crawl.readme_screens``: the README's screenshots of the back office, taken from the demo
``make run`` serves (``make readme-screens``), in French and English, 1280 px wide, the top of each page, and
stored small (a palette PNG under ``MAX_BYTES``) in ``docs/screens/`` to be committed.

``tests/iea/test_readme_screens.py`` checks that each one exists, is linked from the README and is small.
"""

import argparse
import asyncio
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screens"
WIDTH, HEIGHT = 1280, 900
MAX_BYTES = 150_000
# name → (role, path): the pages the README's staff section shows.
SCREENS = {
    "backoffice-dashboard": ("staff", "/admin/"),
    "backoffice-statistics": ("staff", "/admin/statistics/"),
}
LANGUAGES = ("fr", "en")


def screen_files() -> list[Path]:
    return [OUT / f"{name}-{language}.png" for name in SCREENS for language in LANGUAGES]


def shrink(png: bytes) -> bytes:
    """The screenshot as a palette PNG (a page's flat colours survive 96 of them), under ``MAX_BYTES``."""
    from PIL import Image  # noqa: PLC0415 -- a tool's dependency, loaded when it runs

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (96, 64, 32):
        buffer = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES:
            return buffer.getvalue()
    raise SystemExit(f"a screenshot stays over {MAX_BYTES} bytes even with 32 colours")


async def take(base_url: str, targets: dict) -> None:
    from playwright.async_api import async_playwright  # noqa: PLC0415

    from iea.mfa import current_totp_code  # noqa: PLC0415
    from iea.site.demo.management.commands._demo_data import DEMO_TOTP_SECRET  # noqa: PLC0415
    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path  # noqa: PLC0415

    from .crawler import Crawler  # noqa: PLC0415

    crawler = Crawler(base_url=base_url, targets=targets, out=OUT,
                      two_factor_code=lambda: current_totp_code(DEMO_TOTP_SECRET))
    crawler.signing_in = asyncio.Lock()
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        states = {}
        for name, (role, path) in SCREENS.items():
            if role not in states:
                states[role] = await crawler.sign_in(browser, role)
            for language in LANGUAGES:
                context = await browser.new_context(
                    storage_state=states[role], locale="fr-FR" if language == "fr" else "en-GB",
                    timezone_id="Europe/Paris", viewport={"width": WIDTH, "height": HEIGHT})
                host = base_url.split("//", 1)[1].split(":", 1)[0].split("/", 1)[0]
                await context.add_cookies([{"name": "django_language", "value": language, "domain": host, "path": "/"}])
                page = await context.new_page()
                response = await page.goto(base_url.rstrip("/") + path, wait_until="load")
                if response is None or response.status != 200:
                    raise SystemExit(f"{path} answered {response.status if response else 'nothing'}")
                target = OUT / f"{name}-{language}.png"
                target.write_bytes(shrink(await page.screenshot(type="png")))
                print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1000} kB")
                await context.close()
        await browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.crawl.readme_screens", description=__doc__)
    parser.add_argument("--base-url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    import django  # noqa: PLC0415

    django.setup()
    from . import targets as targets_module  # noqa: PLC0415 -- reads the demo's database: before the event loop

    asyncio.run(take(options.base_url, targets_module.targets()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
