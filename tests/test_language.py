"""Vietnamese throughout, English throughout: every page each role reaches, in both
languages, shows no untranslated catalogue string and no internal code.

The crawl starts at each role's home and follows every same-site link (GET) over a
history with reviews, requests in each state, a refusal and a correction. In Vietnamese
mode no English message of the catalogue may show; in English mode no Vietnamese one.
In both, no code-shaped token: UPPER-CASE codes (SMOKE-SIGN), snake_case values
(admin_centre), Python reprs (Filters(kind=…)), months as "26-12". Administrators manage
codes as data, so their pages are only checked for the catalogue.
"""

import html
import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.test_lifecycle import _amend, history  # noqa: F401 - the fixture is used below

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "inspection/translations/vi/LC_MESSAGES"
SKIP = re.compile(
    r"/logout|/lang/|/static/|/sw\.js|manifest|/api/|\.(csv|xlsx|pdf|jpg|png|pem|der)\b"
    r"|/photos/|/evidence/|/minutes/\d+\.pdf|/draft\.pdf|/office/report\.pdf"
)
PADES_LEVEL = re.compile(r"\bPAdES B-(?:B|T|LT|LTA)\b")
CODE_TOKENS = [
    re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]*[A-Z][A-Z0-9]*)+\b"),  # SMOKE-SIGN, not TTHCC-001
    re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"),  # admin_centre, checklist_version
    re.compile(r"\b[A-Za-z]+\([a-z_]+="),  # AuditFilters(action=None, …)
    re.compile(r"(?<![\d/.:])\d{2}-\d{2}(?![\d/:-])"),  # a month as 26-12
]
WTFORMS_ENGLISH = ("This field is required.", "Not a valid choice.", "Invalid input.")


def _messages():
    with open(CATALOGUE / "messages.po", "rb") as po:
        catalogue = read_po(po)
    english, vietnamese = set(), set()
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple) or "%" in message.id:
            continue
        if "{" in message.id or message.string == message.id:
            continue
        if len(message.id.split()) >= 3 and len(message.id) >= 15:
            english.add(message.id)
        if len(message.string.split()) >= 3 and len(message.string) >= 15:
            vietnamese.add(message.string)
    return english, vietnamese


def _item_labels() -> set[str]:
    """The demo checklists' Vietnamese labels: English mode must show the English ones."""
    data = json.loads((ROOT / "inspection/data/checklists.json").read_text("utf-8"))
    found = set()
    for item in (i for template in data["templates"] for i in template["items"]):
        for vi, en in (("label_vi", "label_en"), ("short_label_vi", "short_label_en")):
            if item.get(vi) and item.get(en) and item[vi] != item[en] and len(item[vi]) >= 8:
                found.add(item[vi])
    return found


ENGLISH, VIETNAMESE = _messages()
VIETNAMESE |= _item_labels()


def _visible(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


def _crawl(client, start: str, limit: int = 70) -> dict[str, str]:
    seen, queue, pages = set(), [start], {}
    while queue and len(pages) < limit:
        url = queue.pop(0)
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        body = response.get_data(as_text=True)
        pages[url] = body
        for link in re.findall(r'href="(/[^"#]*)"', body):
            link = html.unescape(link)
            if link not in seen:
                queue.append(link)
    return pages


def _problems(pages: dict[str, str], lang: str, admin: bool) -> list[str]:
    found = []
    for url, body in pages.items():
        text = _visible(body)
        foreign = ENGLISH if lang == "vi" else VIETNAMESE
        for message in foreign:
            if message in text:
                found.append(f"{url}: {'English' if lang == 'vi' else 'Vietnamese'} {message!r}")
        if lang == "vi":
            found += [f"{url}: {m!r}" for m in WTFORMS_ENGLISH if m in text]
        if admin:
            continue
        # The standard's names of a signature's level, as validators print them.
        text = PADES_LEVEL.sub("", text)
        for pattern in CODE_TOKENS:
            for token in set(pattern.findall(text)):
                found.append(f"{url}: code-shaped {token!r}")
    return found


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("noivu", "/office/"),
        ("truongdoan", "/inspector/"),
        ("donvi1", "/unit/"),
        ("admin", "/admin/"),
    ],
)
def test_every_page_speaks_one_language_and_no_code(client, auth, history, lang, username, home):  # noqa: F811
    _amend(client, history["lead"], history["v2"])
    auth.login(username)
    client.get(f"/lang/{lang}")
    pages = _crawl(client, home)
    assert len(pages) >= 3, pages.keys()
    problems = _problems(pages, lang, admin=username == "admin")
    assert problems == [], "\n".join(sorted(problems)[:60])


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_form_errors_speak_the_users_language(client, auth, lang):
    auth.login("admin")
    client.get(f"/lang/{lang}")
    for path in ("/admin/units/new", "/admin/users/new", "/admin/settings"):
        page = client.post(path, data={"org_name": "", "code": "", "username": ""}).get_data(
            as_text=True
        )
        text = _visible(page)
        if lang == "vi":
            assert "This field is required." not in text, path
            assert "Trường này là bắt buộc." in text, path
        else:
            assert "This field is required." in text, path
