"""``python -m tests.crawl --base-url URL``: crawl a running demo (``make screens``), write the screenshots and
their index to ``var/screens/``, print what a person would stumble on, exit 1 if anything was found.

The demo's database is read for the object ids and the partner's links, so run it with the server's settings
(the same ``DATABASE_URL``, ``SECRET_KEY``): ``make screens`` does, for ``make run``'s demo.
"""

import argparse
import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

from .crawler import LANGUAGES, SIZES, Crawler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.crawl", description=__doc__)
    parser.add_argument("--base-url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--out", type=Path, default=Path("var/screens"))
    parser.add_argument("--roles", nargs="*", help="default: every demo role and the two mailed links")
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("CRAWL_CONCURRENCY", "4")))
    parser.add_argument("--with-cosign", action="store_true",
                        help="submit pi2's year-1 report first, so a co-signature link exists (a throwaway demo only)")
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    import django

    django.setup()
    from iea.mfa import current_totp_code
    from iea.site.demo.management.commands._demo_data import DEMO_TOTP_SECRET

    from . import targets as targets_module

    if options.with_cosign:
        targets_module.cosign_prepare()
    targets = targets_module.targets()
    if targets["missing"]:
        print(f"crawl: routes neither filled nor explained in tests/crawl/targets.py: {targets['missing']}")
        return 2
    empty = sorted(name for name, found in targets["urls"].items() if not found)
    if empty:
        print(f"crawl: nothing in this demo to visit for {', '.join(empty)} (--with-cosign makes a co-signature link)")
    roles = options.roles or list(targets["roles"])
    crawler = Crawler(base_url=options.base_url, targets=targets, out=options.out, concurrency=options.concurrency,
                      languages=tuple(options.languages), sizes=tuple(options.sizes),
                      two_factor_code=lambda: current_totp_code(DEMO_TOTP_SECRET))
    result = asyncio.run(crawler.run(roles, executable_path=chromium_path(), args=CHROMIUM_ARGS))
    pages = sum(len(found) for found in result.pages.values())
    print(f"crawl: {pages} pages ({', '.join(f'{r} {len(p)}' for r, p in result.pages.items())}) × "
          f"{len(options.languages)} languages × {len(options.sizes)} sizes = {result.renders} renders "
          f"in {result.seconds:.0f} s; screenshots: {options.out / 'index.html'}")
    for finding in result.findings:
        print(finding)
    if result.findings:
        kinds = Counter(f.kind for f in result.findings)
        print(f"crawl: {len(result.findings)} findings: {dict(kinds)}")
    return 1 if result.findings else 0


if __name__ == "__main__":
    sys.exit(main())
