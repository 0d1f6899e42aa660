"""The test LMS's player: reads cmi5.xml, launches an AU the cmi5 way, walks it in Chromium.

What an LMS does before a launch (cmi5 section 8 and 10): a registration, an
activity id of its own for the AU, `LMS.LaunchData` in the State API (the context
template with a fresh session id, the launch mode, the AU's moveOn and
masteryScore from cmi5.xml), a one-time fetch URL, and a "launched" statement.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml
from lxml import etree

from lrs.lms import RETURN_PAGE, Lms
from lrs.ralph_lrs import Ralph

NS = {"c": "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"}
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
VERB = "http://adlnet.gov/expapi/verbs/"


@dataclass(frozen=True)
class Au:
    id: str
    url: str
    move_on: str
    mastery: float | None


@dataclass(frozen=True)
class Launch:
    au: Au
    registration: str
    activity_id: str
    session: str
    actor: dict
    fetch_key: str
    url: str


def read_aus(package: Path) -> list[Au]:
    doc = etree.parse(str(package / "cmi5.xml"))
    return [
        Au(
            el.get("id"),
            el.findtext("c:url", namespaces=NS),
            el.get("moveOn"),
            float(el.get("masteryScore")) if el.get("masteryScore") else None,
        )
        for el in doc.iterfind("c:au", NS)
    ]


def actor(lms: Lms) -> dict:
    return {
        "objectType": "Agent",
        "name": "Learner One",
        "account": {"homePage": lms.base, "name": "learner-1"},
    }


def prepare(
    lms: Lms,
    ralph: Ralph,
    au: Au,
    registration: str,
    mode: str = "Normal",
    return_url: str | None = RETURN_PAGE,
) -> Launch:
    """Everything an LMS does before opening the AU; returns the launch.

    `return_url`: LaunchData's returnURL, a path on the LMS (or, starting with a
    scheme, as it is); None leaves it out."""
    learner = actor(lms)
    activity_id = f"https://lms.coursekit.test/activities/{au.id.rsplit('/', 1)[-1]}"
    session = str(uuid.uuid4())
    launch_data = {
        "contextTemplate": {
            "contextActivities": {"grouping": [{"objectType": "Activity", "id": au.id}]},
            "extensions": {SESSION: session},
        },
        "launchMode": mode,
        "moveOn": au.move_on,
    }
    if return_url is not None:
        launch_data["returnURL"] = return_url if ":" in return_url else lms.base + return_url
    if au.mastery is not None:
        launch_data["masteryScore"] = au.mastery
    lms.put_state(activity_id, learner, registration, "LMS.LaunchData", launch_data)
    key = uuid.uuid4().hex
    query = urlencode(
        {
            "endpoint": f"{lms.base}/xapi/",
            "fetch": lms.new_fetch(key),
            "actor": json.dumps(learner),
            "registration": registration,
            "activityId": activity_id,
        }
    )
    _send_launched(ralph, learner, activity_id, registration, session, mode)
    return Launch(
        au, registration, activity_id, session, learner, key, f"{lms.base}/au/{au.url}?{query}"
    )


def _send_launched(
    ralph: Ralph, learner: dict, activity_id: str, registration: str, session: str, mode: str
) -> None:
    statement = {
        "actor": learner,
        "verb": {"id": VERB + "launched", "display": {"en-US": "launched"}},
        "object": {"objectType": "Activity", "id": activity_id},
        "context": {
            "registration": registration,
            "contextActivities": {"category": [{"id": CMI5}]},
            "extensions": {
                SESSION: session,
                "https://w3id.org/xapi/cmi5/context/extensions/launchmode": mode,
            },
        },
    }
    request = urllib.request.Request(
        f"{ralph.url}/xAPI/statements",
        data=json.dumps(statement).encode(),
        headers={
            "Authorization": f"Basic {ralph.auth_token}",
            "Content-Type": "application/json",
            "X-Experience-API-Version": "1.0.3",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def walk(page, course: Path, answers: str = "right") -> None:  # type: ignore[no-untyped-def]
    """Go through every page of the open AU with Next, answering its quiz from quiz.yml.

    `course` is the course's folder: the quiz's answers are in its unit's quiz.yml.
    """
    total = len(page.query_selector_all("#ck-pages a"))
    for index in range(total):
        if index:
            page.click("#ck-next")
        content = at_page(page, index)
        if content.query_selector("form.ck-quiz"):
            answer(content, quiz_of(course, content.url), answers)


def at_page(page, index: int):  # type: ignore[no-untyped-def]
    """The content frame, once the bar says page `index + 1` and the frame has loaded it."""
    page.wait_for_function(
        "n => document.getElementById('ck-position').textContent === `Page ${n} of` "
        "+ ` ${document.querySelectorAll('#ck-pages a').length}`",
        arg=index + 1,
    )
    link = page.query_selector_all("#ck-pages a")[index].get_attribute("data-ck-page")
    content = page.frame(name="ck-frame")
    content.wait_for_url(f"**/{link}")
    content.wait_for_load_state()
    return content


def quiz_of(course: Path, url: str) -> dict:
    """The quiz.yml of the unit whose page is at `url` (…/modules/<folder>/<page>.html)."""
    folder = url.split("?")[0].split("/modules/", 1)[1].rsplit("/", 1)[0]
    return yaml.safe_load((course / "modules" / folder / "quiz.yml").read_text(encoding="utf-8"))


def answer(content, quiz: dict, answers: str) -> None:  # type: ignore[no-untyped-def]
    """Answer each question as quiz.yml says is right (or pick a wrong answer), then submit."""
    for q in quiz["questions"]:
        box = content.query_selector(f'fieldset[data-question="{q["id"]}"]')
        if q["type"] == "numeric":
            value = q["answer"] if answers == "right" else q["answer"] + 100
            box.query_selector("input").fill(str(value))
            continue
        for index, choice in enumerate(q["choices"]):
            pick = bool(choice.get("correct")) == (answers == "right")
            if pick:
                box.query_selector(f'.ck-choice[data-index="{index}"] input').check()
                if q["type"] == "single":
                    break
    content.click("form.ck-quiz [type=submit]")
    content.wait_for_function("() => document.querySelector('.ck-score').textContent !== ''")


def session_statements(ralph: Ralph, launch: Launch) -> list[dict]:
    """The statements of this launch's session (its session id), in the order stored."""
    return [
        s
        for s in ralph.statements(launch.registration)
        if s["object"]["id"] == launch.activity_id
        and s["context"].get("extensions", {}).get(SESSION) == launch.session
    ]


def wait_for_verb(page, ralph: Ralph, launch: Launch, verb: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The session's statements once `verb` is among them (Ralph is polled; 30 s at most).

    It waits with Playwright, not time.sleep: the page's requests go through the
    test's route handler (browser.watch), which runs only while Playwright does.
    """
    deadline = time.monotonic() + 30
    while True:
        found = session_statements(ralph, launch)
        if any(s["verb"]["id"] == VERB + verb for s in found) or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(200)


def verbs(statements: list[dict]) -> list[str]:
    return [s["verb"]["id"].removeprefix(VERB) for s in statements]
