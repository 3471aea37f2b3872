"""Nobody reaches another user's tasks, forms need CSRF tokens, share keys
cannot be guessed, and task creation is rate limited."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from converter import ratelimit
from converter.models import Task, new_share_key
from converter.services import access_keys
from converter.urls import urlpatterns
from tests.factories import (
    form_data,
    make_finished_task,
    make_project,
    make_project_with_key,
    make_user,
    upload_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

TASK_URLS = [
    p for p in urlpatterns if isinstance(p, URLPattern) and "<str:public_id>" in str(p.pattern)
]
SHARE_URLS = [
    p for p in urlpatterns if isinstance(p, URLPattern) and "<str:share_key>" in str(p.pattern)
]


def _args(pattern: URLPattern, key: str) -> list:
    route = str(pattern.pattern)
    args = [key]
    if "<int:index>" in route:
        args.append(0)
    if "<str:ext>" in route:
        args.append("gif")
    return args


@pytest.fixture
def finished_task(clips):
    return make_finished_task(clips.moving(), original_filename="secret.mp4")


def test_every_task_url_answers_404_for_someone_elses_task(client, finished_task):
    assert len(TASK_URLS) >= 3
    client.force_login(make_user())
    for pattern in TASK_URLS:
        name = f"converter:{pattern.name}"
        for method in ("get", "post", "delete", "put"):
            theirs = getattr(client, method)(
                reverse(name, args=_args(pattern, finished_task.public_id))
            )
            missing = getattr(client, method)(reverse(name, args=_args(pattern, "mc-" + "0" * 32)))
            # 404 for GET; a refused method may say 405. Never 200 or 403, and
            # never a difference between "someone else's" and "does not exist".
            assert theirs.status_code in (404, 405), (name, method, theirs.status_code)
            assert theirs.status_code == missing.status_code, (name, method)
            assert b"secret.mp4" not in theirs.content
    listing = client.get(reverse("converter:task-list")).content.decode()
    assert finished_task.public_id not in listing and "secret.mp4" not in listing


def test_task_urls_need_a_login(client, finished_task):
    for pattern in TASK_URLS:
        response = client.get(
            reverse(f"converter:{pattern.name}", args=_args(pattern, finished_task.public_id))
        )
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_share_urls_need_the_share_key_not_the_task_id(client, finished_task):
    for pattern in SHARE_URLS:
        name = f"converter:{pattern.name}"
        assert (
            client.get(reverse(name, args=_args(pattern, finished_task.share_key))).status_code
            == 200
        )
        for guess in (finished_task.public_id, finished_task.share_key[:-1], "x" * 32):
            assert client.get(reverse(name, args=_args(pattern, guess))).status_code == 404


def test_share_keys_carry_at_least_128_random_bits():
    keys = {new_share_key() for _ in range(2000)}
    assert len(keys) == 2000
    for key in list(keys)[:50]:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        assert len(raw) * 8 >= 128


FORM_URLS = [
    ("converter:upload", []),
    ("converter:signup", []),
    ("login", []),
    ("logout", []),
    ("password_change", []),
    ("admin:login", []),
]


@pytest.mark.parametrize(("name", "args"), FORM_URLS)
def test_every_form_refuses_a_post_without_a_csrf_token(name, args):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    response = client.post(reverse(name, args=args), {"username": "x", "password": "y"})
    assert response.status_code == 403, (name, response.status_code)


def _kwargs(pattern: URLPattern, values: dict) -> dict:
    return {name: values[name] for name in pattern.pattern.converters}


def _owned_objects(task: Task) -> dict:
    project, (key_id, _) = make_project_with_key(f"p{task.pk}x", owner=task.owner)
    return {
        "public_id": task.public_id,
        "share_key": task.share_key,
        "index": 0,
        "ext": "gif",
        "name": project.name,
        "key_id": key_id,
        "draft_id": "dr-none",  # the CSRF check answers before any lookup
    }


def test_every_converter_url_refuses_a_post_without_a_csrf_token(finished_task):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finished_task.owner)
    values = _owned_objects(finished_task)
    checked = 0
    for pattern in urlpatterns:
        if (
            not isinstance(pattern, URLPattern)
            or not pattern.name
            or pattern.name.startswith("api")
        ):
            continue  # the JSON API authenticates with keys, never cookies
        url = reverse(f"converter:{pattern.name}", kwargs=_kwargs(pattern, values))
        response = client.post(url)
        assert response.status_code == 403, (pattern.name, response.status_code)
        checked += 1
    assert checked >= 10


def test_every_project_url_answers_404_for_someone_elses_project(client, finished_task):
    values = _owned_objects(finished_task)
    client.force_login(make_user())
    patterns = [
        p for p in urlpatterns if isinstance(p, URLPattern) and "name" in p.pattern.converters
    ]
    assert len(patterns) >= 3
    for pattern in patterns:
        url = reverse(f"converter:{pattern.name}", kwargs=_kwargs(pattern, values))
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            assert status in (404, 405), (pattern.name, method, status)


def test_the_api_never_accepts_a_session_cookie(client, finished_task):
    client.force_login(finished_task.owner)
    response = client.post("/api/v1/ListTasks", data=b"{}", content_type="application/json")
    assert response.status_code == 401 and response.json()["Code"] == "Unauthorized"


def test_access_keys_are_stored_hashed_and_compared_in_constant_time(monkeypatch):
    import hmac

    key, secret = access_keys.access_key_create(make_project("hashed"))
    key.refresh_from_db()
    assert secret not in key.secret_hash and len(secret) >= 32
    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert access_keys.access_key_authenticate(key.key_id, secret) == key
    assert (
        access_keys.access_key_authenticate("LF-NO-SUCH-KEY", secret) is None
    )  # compared all the same
    assert len(compared) == 2


def test_the_api_refuses_another_projects_task_as_not_found(client, finished_task):
    from tests.api import call

    _, key = make_project_with_key("mine")
    answer = call(
        client,
        "GetTask",
        {"ProjectName": "mine", "TaskId": finished_task.public_id},
        key=key,
        expect=None,
    )
    assert answer["_status"] == 404 and answer["Code"] == "ResourceNotFound"


def test_the_api_rate_limits_task_creation_per_key(client, settings):
    from tests.api import call

    settings.CONVERTER_KEY_RATE_LIMIT_PER_MINUTE = 2
    _, key = make_project_with_key("busy")
    body = {"ProjectName": "busy", "Sources": [{"URI": "s3://nowhere/x.mp4"}]}
    codes = [
        call(client, "CreateMediaConvertTask", body, key=key, expect=None)["Code"] for _ in range(3)
    ]
    assert codes[:2] != ["Throttling"] * 2 and codes[2] == "Throttling"


def test_the_upload_form_works_with_its_csrf_token(clips):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    page = client.get(reverse("converter:upload"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("converter:upload"),
        form_data(upload_of(clips.moving()), csrfmiddlewaretoken=token),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content


def test_task_creation_is_rate_limited_per_user(client, settings):
    settings.CONVERTER_RATE_LIMIT_PER_MINUTE = 2
    user = make_user()
    client.force_login(user)
    statuses = [
        client.post(reverse("converter:upload"), {}, HTTP_ACCEPT="application/json").status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
    refused = client.post(reverse("converter:upload"), {}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 429 and refused.json()["code"] == "Throttling"
    assert 1 <= int(refused["Retry-After"]) <= 61
    other = Client()
    other.force_login(make_user())
    assert (
        other.post(reverse("converter:upload"), {}, HTTP_ACCEPT="application/json").status_code
        == 400
    )


def test_access_keys_are_rate_limited_on_their_own(settings):
    settings.CONVERTER_KEY_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        ratelimit.task_creation_by_key("AK1")
    with pytest.raises(ratelimit.RateLimited) as info:
        ratelimit.task_creation_by_key("AK1")
    assert info.value.retry_after_s >= 1
    ratelimit.task_creation_by_key("AK2")  # another key has its own window


def test_a_zero_limit_disables_the_check(settings):
    settings.CONVERTER_RATE_LIMIT_PER_MINUTE = 0
    user = make_user()
    for _ in range(50):
        ratelimit.task_creation_by_user(user)
