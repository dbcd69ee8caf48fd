"""Open report.html in headless Chromium: it loads without errors and its figures display."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian packages chromium and chromium-driver in /usr/bin",
    ),
]

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,900",
)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_report_opens_in_chromium_with_its_figures_displayed(tiny_run, browser, tmp_path):
    report = tiny_run / "report.html"  # written by the real training run (_kit.train_run)
    assert report.is_file(), "graftlab train did not write report.html"
    browser.get(report.resolve().as_uri())

    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title.startswith("graftlab run")
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1200, min(height + 100, 8000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == [], severe

    # A real run may make no mistake on its test split; every other figure is always there.
    figures = ["fig-confusion", "fig-curves", "fig-probe", "fig-reliability"]
    figures += [e.get_attribute("id") for e in browser.find_elements("id", "fig-mistakes")]
    for fig_id in figures:
        img = browser.find_element("id", fig_id)
        size = browser.execute_script(
            "const e = arguments[0]; return [e.complete, e.naturalWidth, e.naturalHeight,"
            " e.clientWidth, e.clientHeight];",
            img,
        )
        complete, natural_w, natural_h, client_w, client_h = size
        assert complete and natural_w > 100 and natural_h > 100, (fig_id, size)
        assert client_w > 100 and client_h > 100, (fig_id, size)
        assert img.is_displayed()
