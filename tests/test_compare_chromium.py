"""The `dagshift compare` HTML report as a browser shows it: headless Debian Chromium through
chromedriver (selenium). Missing browser packages fail the test: install them, do not skip."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.api import check_file
from compiler.backends import registry
from compiler.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "churn.yaml"  # the example that uses the most features
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NASTY_COMMAND = "echo '</pre><script>alert(1)</script>' done"


@pytest.fixture(scope="module")
def browser():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: install the Debian packages chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,2000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _report(tmp_path: Path, pipeline: Path) -> Path:
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["compare", str(pipeline), "--html", str(report)])
    assert result.exit_code == 0, result.output
    return report


def _distinct_bytes_of_png(png: bytes) -> int:
    """Distinct byte values in the decompressed image data: a blank page has only a few."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    data, offset = b"", 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind = png[offset + 4:offset + 8]
        if kind == b"IDAT":
            data += png[offset + 8:offset + 8 + length]
        offset += 12 + length
    return len(set(zlib.decompress(data)))


def test_report_renders_every_target_and_the_graph(browser, tmp_path):
    from selenium.webdriver.common.by import By

    report = _report(tmp_path, EXAMPLE)
    browser.get(report.resolve().as_uri())
    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000
    assert _distinct_bytes_of_png(screenshot.read_bytes()) > 16

    for name in registry.names():
        section = browser.find_element(By.ID, f"target-{name}")
        assert section.is_displayed()
        heading = section.find_element(By.TAG_NAME, "h2")
        assert heading.is_displayed()
        assert registry.get(name).title in heading.text and name in heading.text

    tasks = list(check_file(EXAMPLE).pipeline.tasks)
    nodes = browser.find_elements(By.CSS_SELECTOR, "svg.graph g[data-task]")
    assert [node.get_attribute("data-task") for node in nodes] == tasks
    for node in nodes:
        assert node.is_displayed() and node.size["width"] > 0 and node.size["height"] > 0
    table = browser.find_element(By.CSS_SELECTOR, "table.features")
    assert table.is_displayed() and "✗" in table.text


def test_a_script_in_a_command_stays_text(browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    pipeline = tmp_path / "nasty.yaml"
    pipeline.write_text(f'name: nasty\ntasks:\n  fetch:\n    command: "{NASTY_COMMAND}"\n', encoding="utf-8")
    browser.get(_report(tmp_path, pipeline).resolve().as_uri())
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text  # an alert would mean the command's <script> ran
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert NASTY_COMMAND in browser.find_element(By.CSS_SELECTOR, "table.tasks").text
