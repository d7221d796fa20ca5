"""A headless Chromium driven by Selenium, to work the labeling page.

For the page's real-browser tests and its latency benchmark: Debian's
``chromium`` and ``chromedriver`` packages (``tools/setup.sh`` installs
them); nothing is downloaded (Selenium Manager stays offline). Selenium is
imported only when a browser is started.
"""

import os
import shutil

__all__ = ["CHROMEDRIVER", "CHROMIUM", "browser_available", "headless_chromium"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

_ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,900",
)


def browser_available():
    """Whether Chromium and ChromeDriver are installed and executable."""
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


def headless_chromium(profile, page_load_timeout=None):
    """A Selenium driver of a headless Chromium with its own profile folder.

    Parameters
    ----------
    profile : path-like
        The browser's user-data folder (one per browser: cookies, storage).
    page_load_timeout : float or None, default=None
        Seconds a page may take to load (None: Selenium's default).

    Returns
    -------
    driver : selenium.webdriver.Chrome
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*_ARGUMENTS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options
    )
    if page_load_timeout is not None:
        driver.set_page_load_timeout(page_load_timeout)
    return driver
