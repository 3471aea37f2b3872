"""Projects, access keys and usage the way a person uses them, in real
Chromium against the live server: make a project and a key on the pages, use
the key from a program (the JSON API over HTTP, a real worker converts), see
the frames billed and the task on the pages, revoke the key; a second person
sees none of the first one's projects."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime

import django_rq
import pytest
from django.conf import settings
from playwright.sync_api import expect

from converter import storage
from converter.bench.decode import decode
from converter.models import AccessKey, Task
from tests.api import call
from tests.browser.steps import sign_up
from tests.poll import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUCKET = settings.CONVERTER_API_BUCKETS[0]
_DIRECT = urllib.request.build_opener(
    urllib.request.ProxyHandler({})
)  # 127.0.0.1 only, never a proxy


class _Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self._body = body

    def json(self):
        return json.loads(self._body)


class LiveApi:
    """A program calling the running site over HTTP. It has the one method of
    Django's test client that ``tests.api.call`` uses (``post(path, data=,
    content_type=, HTTP_...=)``), so every answer is still checked against the
    OpenAPI document, but the request goes through the live server like any
    client's."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, path: str, data: bytes, content_type: str, **meta: str) -> _Answer:
        headers = {"Content-Type": content_type}
        for name, value in meta.items():  # HTTP_AUTHORIZATION -> Authorization
            assert name.startswith("HTTP_"), name
            headers[name[5:].replace("_", "-").title()] = value
        request = urllib.request.Request(  # noqa: S310  (the live server's http URL)
            self.base + path, data=data, headers=headers, method="POST"
        )
        try:
            with _DIRECT.open(request, timeout=30) as response:
                return _Answer(response.status, response.read())
        except urllib.error.HTTPError as refused:
            return _Answer(refused.code, refused.read())


def put_object(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="PUT")  # noqa: S310  (a signed http URL of ours)
    with _DIRECT.open(request, timeout=30) as response:
        return response.status


def create_project(page, base: str, name: str, description: str = "") -> None:
    """From the navigation bar to the new project's page."""
    page.get_by_role("link", name="Projects", exact=True).click()
    expect(page.locator("h1")).to_have_text("Projects")
    page.fill("#id_name", name)
    page.fill("#id_description", description)
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(f"{base}/projects/{name}/")
    expect(page.locator("h1")).to_have_text(f"Project {name}")


def create_key(page) -> tuple[str, str]:
    """Press "Create access key" on a project's page; the key id and the
    secret as the page shows them, once."""
    page.get_by_role("button", name="Create access key").click()
    expect(page.locator("#new-key")).to_contain_text("it will not be shown again")
    key_id = page.locator("#new-key-id").inner_text()
    secret = page.locator("#new-key-secret").input_value()
    assert re.fullmatch(r"LF[A-Z2-7]{20}", key_id), key_id
    assert re.fullmatch(r"[A-Za-z0-9_-]{40}", secret), secret
    expect(page.locator("#new-key")).to_contain_text(f"Authorization: Bearer {key_id}:<secret>")
    return key_id, secret


def with_number(request: dict, number: int) -> dict:
    changed = json.loads(json.dumps(request))
    changed["Targets"][0]["Image"]["Animations"][0]["Number"] = number
    return changed


def test_a_key_made_on_the_project_page_converts_is_billed_and_once_revoked_is_refused(
    page, live_server, worker, clips
):
    base = live_server.url
    api = LiveApi(base)
    now = datetime.now(UTC)  # the pages show UTC days and months
    today, month = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")
    sign_up(page, base, "erin")

    # --- A project, its quota and a key, on the pages ----------------------------
    create_project(page, base, "clips-shop", "Product loops")
    expect(page.locator("#frames-month")).to_have_text("0")
    expect(page.locator("main")).to_contain_text("No keys yet.")

    page.fill("#quota-form input[name=monthly_frame_quota]", "10")
    page.get_by_role("button", name="Save quota").click()  # back to the project's page:
    expect(page.locator("main .meta").first).to_contain_text("Frames this month: 0 of 10.")
    expect(page.locator("#quota-form input[name=monthly_frame_quota]")).to_have_value("10")

    key_id, secret = create_key(page)
    expect(page.locator(f"#keys tr[data-key-id='{key_id}'] .badge")).to_have_text("active")
    expect(page.locator(f"#keys tr[data-key-id='{key_id}'] td").nth(2)).to_have_text(
        "never"
    )  # last used

    # The secret is not on the project's page once the person comes back to it.
    page.get_by_role("link", name="Projects", exact=True).click()
    project_row = page.locator("#projects tbody tr")
    expect(project_row).to_have_count(1)
    expect(project_row.locator("td")).to_have_text(
        [re.compile(r"^clips-shop\s*Product loops$"), "1", "10", today]
    )
    project_row.get_by_role("link", name="clips-shop").click()
    expect(page.locator("#keys tbody tr")).to_have_count(1)
    expect(page.locator("#new-key")).to_have_count(0)
    assert secret not in page.content()

    # --- A program uses the key: upload a clip, convert it, the worker runs it ----
    key = (key_id, secret)
    source = clips.moving(duration=2, size="160x120", name="walk.mp4")
    uri = f"oss://{BUCKET}/e2e-shop/walk.mp4"
    upload = call(api, "CreateUploadURL", {"ProjectName": "clips-shop", "URI": uri}, key=key)
    assert put_object(upload["UploadURL"], source.read_bytes()) == 200
    request = {
        "ProjectName": "clips-shop",
        "Sources": [{"URI": uri}],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {
                            "Format": "gif",
                            "Interval": 0.25,
                            "FrameRate": 4,
                            "Number": 6,  # 0, 0.25 .. 1.25 s
                            "Width": 80,
                            "Height": 60,
                            "URI": f"oss://{BUCKET}/e2e-shop/{{barename}}.{{autoext}}",
                        }
                    ]
                }
            }
        ],
    }
    task_id = call(api, "CreateMediaConvertTask", request, key=key)["TaskId"]

    def finished():
        answer = call(api, "GetTask", {"ProjectName": "clips-shop", "TaskId": task_id}, key=key)
        return answer if answer["Status"] != "Running" else None

    answer = wait_until(
        finished, 120, 0.5, what=lambda: f"the task (worker log: {worker.log()[-2000:]})"
    )
    assert answer["Status"] == "Succeeded", (answer, worker.log()[-3000:])
    output = answer["Outputs"][0]
    assert (
        output["URI"],
        output["Format"],
        output["Width"],
        output["Height"],
        output["Frames"],
    ) == (f"oss://{BUCKET}/e2e-shop/walk.gif", "gif", 80, 60, 6)
    gif = decode(storage.object_read(BUCKET, "e2e-shop/walk.gif"))
    assert (gif.format, gif.size, len(gif.frames)) == ("GIF", (80, 60), 6)

    # The quota set on the page holds: 6 of 10 frames used, 5 more would pass it.
    refused = call(api, "CreateMediaConvertTask", with_number(request, 5), key=key, expect=429)
    assert refused["Code"] == "QuotaExceeded"

    # --- Back in the browser: the frames billed, the task --------------------------
    page.get_by_role("link", name="Usage", exact=True).click()
    expect(page.locator("h1")).to_have_text("Usage")
    expect(page.locator("#usage-quota tbody tr")).to_have_count(1)
    expect(page.locator("#usage-quota tbody tr td")).to_have_text(["clips-shop", "6", "10"])
    expect(page.locator("#usage-monthly tbody tr td")).to_have_text([month, "clips-shop", "6", "1"])
    expect(page.locator("#usage-daily tbody tr td")).to_have_text([today, "clips-shop", "6", "1"])

    page.get_by_role("link", name="History", exact=True).click()
    history = page.locator("table.history tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_have_attribute("data-task-id", task_id)
    expect(history.locator(".filename")).to_have_text("walk.mp4")
    expect(history.locator(".badge")).to_have_text("Succeeded")
    expect(history.locator("img")).to_be_visible()
    history.locator(".filename").click()
    page.wait_for_url(f"{base}/tasks/{task_id}/")
    expect(page.locator("#status")).to_have_text("Succeeded")
    expect(page.locator("#outputs .dims")).to_have_text("80 × 60")
    expect(page.locator("#outputs .frames")).to_have_text("6")
    shown = page.request.get(base + page.locator("#outputs img").get_attribute("src"))
    assert shown.status == 200 and len(decode(shown.body()).frames) == 6

    page.goto(f"{base}/projects/clips-shop/")
    expect(page.locator("main .meta").first).to_contain_text("Frames this month: 6 of 10.")
    key_row = page.locator(f"#keys tr[data-key-id='{key_id}']")
    expect(key_row.locator("td").nth(2)).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
    )  # last used

    # --- Revoke the key on the page: the same call is refused, nothing is queued ----
    key_row.get_by_role("button", name="Revoke").click()  # back to the project's page:
    expect(key_row.locator(".badge")).to_have_text(f"revoked {today}")
    expect(key_row.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page).to_have_url(f"{base}/projects/clips-shop/")

    refused = call(api, "CreateMediaConvertTask", request, key=key, expect=401)
    assert refused["Code"] == "Unauthorized"
    assert refused["Message"] == "The access key is unknown, revoked, or its secret is wrong."
    refused = call(
        api, "GetTask", {"ProjectName": "clips-shop", "TaskId": task_id}, key=key, expect=401
    )
    assert refused["Code"] == "Unauthorized"
    assert list(
        Task.objects.filter(project__name="clips-shop").values_list("public_id", flat=True)
    ) == [task_id]
    assert django_rq.get_queue("convert").count == 0

    page.get_by_role("link", name="Projects", exact=True).click()
    expect(page.locator("#projects tbody tr td").nth(1)).to_have_text("0")  # active keys
    page.get_by_role("link", name="History", exact=True).click()
    expect(page.locator("table.history tbody tr")).to_have_count(1)


def test_another_person_neither_sees_nor_opens_someone_elses_project(page, browser, live_server):
    base = live_server.url
    sign_up(page, base, "frank")
    create_project(page, base, "franks-loops")
    create_key(page)

    grace_context = browser.new_context()
    grace = grace_context.new_page()
    sign_up(grace, base, "grace")
    create_project(grace, base, "graces-loops")
    grace.get_by_role("link", name="Projects", exact=True).click()
    expect(grace.locator("#projects tbody tr a")).to_have_text(["graces-loops"])  # hers only
    expect(grace.locator("main")).not_to_contain_text("franks-loops")

    response = grace.goto(f"{base}/projects/franks-loops/")
    assert response.status == 404
    expect(grace.locator("h1")).to_have_text("Not Found")
    expect(grace.locator("body")).not_to_contain_text("franks-loops")

    # Nor can she make a key for it or change its quota, with a valid form token of her own.
    grace.goto(f"{base}/projects/graces-loops/")
    token = grace.locator("#quota-form input[name=csrfmiddlewaretoken]").input_value()
    form = {"csrfmiddlewaretoken": token, "monthly_frame_quota": "7"}
    for action in ("keys/", "quota/"):
        answer = grace.request.post(
            f"{base}/projects/franks-loops/{action}", form=form, max_redirects=0
        )
        assert answer.status == 404, (action, answer.status)
    # The same form on her own project works (so the 404s above are not a token problem).
    answer = grace.request.post(f"{base}/projects/graces-loops/quota/", form=form, max_redirects=0)
    assert answer.status == 302 and answer.headers["location"] == "/projects/graces-loops/"
    grace.get_by_role("link", name="Usage", exact=True).click()
    expect(grace.locator("#usage-quota tbody tr td")).to_have_text(["graces-loops", "0", "7"])
    grace_context.close()

    page.goto(f"{base}/projects/franks-loops/")
    expect(page.locator("#keys tbody tr")).to_have_count(1)
    expect(page.locator("main .meta").first).to_contain_text("Frames this month: 0.")  # no quota
    expect(page.locator("#quota-form input[name=monthly_frame_quota]")).to_have_value("")


def test_reloading_the_page_that_showed_a_secret_makes_no_new_key(page, live_server):
    base = live_server.url
    sign_up(page, base, "heidi")
    create_project(page, base, "reloaded")
    _, secret = create_key(page)

    page.reload()
    expect(page.locator("body")).not_to_contain_text(secret)
    assert AccessKey.objects.filter(project__name="reloaded").count() == 1, (
        "the reload made another key"
    )
    expect(page.locator("#new-key")).to_have_count(0)
