"""Browser tests in real Chromium (Debian's /usr/bin/chromium) driven by Playwright.

The app runs in a thread on 127.0.0.1 and stops with the test. Without Chromium the
tests skip locally but fail when CI=true: CI must run them.
"""

import os
import re
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}


@pytest.fixture(scope="session")
def playwright_driver():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_server(app):
    """Serve ``app`` (on its own copy of the demo database) on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def app_config():
    # The browser submits real forms with real CSRF tokens.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def phone(browser, request):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        os.makedirs("test-artifacts", exist_ok=True)
        page.screenshot(path=f"test-artifacts/{request.node.name}.png", full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_tap_targets(page) -> list[str]:
    """Return the visible tap targets shorter than 44 CSS px.

    Radios and checkboxes are drawn by their labels, so the labels are measured instead.
    """
    return page.evaluate(
        """() => [...document.querySelectorAll(
                'a, button, select, textarea, summary, label[for], input:not([type=hidden])')]
            .filter(el => !['radio', 'checkbox'].includes(el.type))
            .filter(el => el.tagName !== 'LABEL' || ['radio', 'checkbox'].includes(
                (document.getElementById(el.htmlFor) || {}).type))
            .filter(el => el.offsetParent !== null && !el.closest('[hidden]'))
            .filter(el => getComputedStyle(el).opacity !== '0' && !el.closest('.sr'))
            .filter(el => el.getBoundingClientRect().height < 44)
            .map(el => el.outerHTML.slice(0, 100))"""
    )


class Gate:
    """Stands between the phone and the app to cut replies the way a bad signal does.

    ``hold(method, path_regex)``: the app does the work and commits, then the reply waits
    until ``release`` is set (the test kills the page meanwhile: the phone never hears).
    ``unavailable``: a path regex answered 503 without reaching the app.
    """

    def __init__(self, app):
        self.inner = app.wsgi_app
        app.wsgi_app = self
        self.rules: list[tuple[str, str]] = []
        self.unavailable: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_paths: list[str] = []

    def hold(self, method: str, pattern: str) -> None:
        self.rules.append((method, pattern))

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if self.unavailable and re.fullmatch(self.unavailable, path):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"unavailable"]
        if not any(m == method and re.fullmatch(p, path) for m, p in self.rules):
            return self.inner(environ, start_response)
        reply = {}

        def capture(status, headers, exc_info=None):
            reply["head"] = (status, headers)
            return lambda data: None

        chunks = self.inner(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        self.held_paths.append(f"{method} {path} {reply['head'][0]}")
        self.held.set()
        self.release.wait(30)
        start_response(*reply["head"])
        return [body]


@pytest.fixture
def gate(app):
    return Gate(app)
