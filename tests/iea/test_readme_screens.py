"""The README's screenshots of the back office (``make readme-screens``): each exists, is linked from the README's
staff section, is 1280 px wide and small enough to keep in the repository."""

import re
from pathlib import Path

import pytest
from PIL import Image

from tests.crawl.readme_screens import MAX_BYTES, ROOT, WIDTH, screen_files

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("screen", screen_files(), ids=lambda path: path.name)
def test_each_screenshot_is_committed_small_and_linked(screen: Path):
    assert screen.exists(), f"{screen.relative_to(ROOT)} is missing: run the demo, then `make readme-screens`"
    assert screen.stat().st_size <= MAX_BYTES
    with Image.open(screen) as image:
        assert image.width == WIDTH
    assert f"({screen.relative_to(ROOT)})" in README, f"the README does not show {screen.name}"


def test_the_screenshots_are_in_the_staff_section():
    staff = re.search(r"^### Directorate staff.*?(?=^### )", README, flags=re.S | re.M)
    assert staff, "the README has no staff section"
    for screen in screen_files():
        assert screen.name in staff.group(0)
