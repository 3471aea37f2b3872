"""Pages through Django's test client (the browser test drives the real thing)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from converter.models import Task
from converter.views import web
from tests.factories import form_data, make_finished_task, make_task, make_user, upload_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_need_a_login(client):
    response = client.get(reverse("converter:upload"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_signup_logs_the_new_user_in(client):
    response = client.post(
        reverse("converter:signup"),
        {"username": "newbie", "password1": "a-Long-passw0rd!", "password2": "a-Long-passw0rd!"},
    )
    assert response.status_code == 302
    assert client.get(reverse("converter:upload")).status_code == 200


def test_upload_creates_a_queued_task_with_the_chosen_options(user_client, clips):
    response = user_client.post(
        reverse("converter:upload"),
        form_data(
            upload_of(clips.moving()),
            format="webp",
            start="0.5",
            duration="2",
            fps="12",
            size="pixels",
            width="100",
        ),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    assert task.owner == user_client.user and task.status == Task.Status.QUEUED
    assert task.spec["trim"] == {"start": 0.5, "duration": 2.0}
    animation = task.spec["animations"][0]
    assert (animation["format"], animation["frame_rate"], animation["width"]) == (
        "webp",
        12.0,
        100.0,
    )
    assert animation["interval"] == pytest.approx(1 / 12)
    assert response.json()["url"] == reverse("converter:task-detail", args=[task.public_id])


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.mp4", b"", "video"),
        ("random.mp4", bytes(range(256)) * 40, "UnsupportedFormat"),
        ("notes.txt", b"just some text\n" * 100, "UnsupportedFormat"),
    ],
)
def test_bad_uploads_are_refused_before_anything_is_queued(user_client, name, content, code):
    response = user_client.post(
        reverse("converter:upload"),
        form_data(SimpleUploadedFile(name, content)),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["video"] and (body["code"] == code or code in body["errors"])
    assert not Task.objects.exists()


def test_audio_only_upload_is_refused_with_no_video_stream(user_client, clips):
    response = user_client.post(
        reverse("converter:upload"),
        form_data(upload_of(clips.audio_only())),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "NoVideoStream"
    assert not Task.objects.exists()


def test_a_start_past_the_end_is_refused_at_upload(user_client, clips):
    response = user_client.post(
        reverse("converter:upload"),
        form_data(upload_of(clips.moving()), start="30"),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "StartTimeOutOfRange"


def test_other_users_tasks_are_not_found(user_client, clips):
    task = make_finished_task(clips.moving())
    for name in ("converter:task-detail", "converter:task-status"):
        assert user_client.get(reverse(name, args=[task.public_id])).status_code == 404
    assert (
        user_client.get(
            reverse("converter:task-output", args=[task.public_id, 0, "gif"])
        ).status_code
        == 404
    )
    history = user_client.get(reverse("converter:task-list")).content.decode()
    assert task.public_id not in history


def test_history_lists_own_tasks_newest_first_with_escaped_names(user_client, clips):
    names = ["first.mp4", "<b>second</b>.mp4"]
    for name in names:
        make_task(clips.moving(), owner=user_client.user, original_filename=name)
    html = user_client.get(reverse("converter:task-list")).content.decode()
    assert html.index("&lt;b&gt;second&lt;/b&gt;.mp4") < html.index("first.mp4")
    assert "<b>second</b>" not in html


def test_a_person_changes_their_password_on_a_page_of_the_site(client):
    user = make_user("pat", password="a-Long-passw0rd!")
    client.force_login(user)
    assert (
        'href="/accounts/password_change/"'
        in client.get(reverse("converter:upload")).content.decode()
    )
    page = client.get(reverse("password_change"))
    assert page.templates[0].name == "accounts/password_change_form.html"
    assert 'class="topbar"' in page.content.decode()  # the site's own page, not the admin's
    wrong = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "An0ther-long-one",
            "new_password2": "An0ther-long-one",
        },
    )
    assert (
        wrong.status_code == 200
        and "Your old password was entered incorrectly" in wrong.content.decode()
    )
    done = client.post(
        reverse("password_change"),
        {
            "old_password": "a-Long-passw0rd!",
            "new_password1": "An0ther-long-one",
            "new_password2": "An0ther-long-one",
        },
        follow=True,
    )
    assert done.redirect_chain == [(reverse("password_change_done"), 302)]
    assert "Password changed" in done.content.decode()
    assert client.get(reverse("converter:task-list")).status_code == 200  # still logged in here
    client.logout()
    assert not client.login(username="pat", password="a-Long-passw0rd!")
    assert client.login(username="pat", password="An0ther-long-one")


def test_the_admin_keeps_its_own_password_page(admin_client):
    page = admin_client.get(reverse("admin:password_change"))
    assert page.templates[0].name == "registration/password_change_form.html"
    assert 'class="topbar"' not in page.content.decode()


def test_closed_sign_ups_make_no_account_and_say_so(client, settings):
    assert 'href="/signup/"' in client.get(reverse("login")).content.decode()
    settings.CONVERTER_SIGNUP_OPEN = False
    page = client.get(reverse("converter:signup"))
    assert page.status_code == 403 and "Sign-ups are closed" in page.content.decode()
    posted = client.post(
        reverse("converter:signup"),
        {
            "username": "mallory",
            "password1": "a-Long-passw0rd!",
            "password2": "a-Long-passw0rd!",
        },
    )
    assert posted.status_code == 403 and not User.objects.filter(username="mallory").exists()
    assert 'href="/signup/"' not in client.get(reverse("login")).content.decode()  # nor offered


def test_there_is_no_password_reset_by_email(client):
    """Accounts have no e-mail address: a reset page could only pretend to send one."""
    assert client.get("/accounts/password_reset/").status_code == 404
    assert "ask whoever runs this site" in client.get(reverse("login")).content.decode()


def test_history_is_paged_newest_first(user_client, clips, monkeypatch):
    monkeypatch.setattr(web, "HISTORY_PAGE_SIZE", 2)
    made = [
        make_task(clips.moving(), owner=user_client.user, original_filename=f"clip{n}.mp4")
        for n in range(5)
    ]
    newest_first = [t.public_id for t in reversed(made)]

    def page(query: str) -> tuple[list[str], str]:
        html = user_client.get(reverse("converter:task-list") + query).content.decode()
        return re.findall(r'<tr data-task-id="([^"]+)"', html), html

    shown = [page(f"?page={n}") for n in (1, 2, 3)]
    assert [ids for ids, _ in shown] == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    first, middle, last = (html for _, html in shown)
    assert (
        'rel="next"' in first
        and 'rel="prev"' not in first
        and "Page 1 of 3 (5 animations)" in first
    )
    assert 'href="?page=1" rel="prev"' in middle and 'href="?page=3" rel="next"' in middle
    assert 'rel="next"' not in last
    assert page("?page=99")[0] == newest_first[4:] and page("?page=x")[0] == newest_first[0:2]
    monkeypatch.setattr(web, "HISTORY_PAGE_SIZE", 50)
    ids, html = page("")
    assert ids == newest_first and 'class="pager"' not in html


def test_share_link_serves_the_animation_to_anyone(client, clips):
    task = make_finished_task(clips.moving())
    assert len(task.share_key) >= 32  # 192 random bits, url-safe
    page = client.get(reverse("converter:shared", args=[task.share_key]))
    assert page.status_code == 200
    image = client.get(reverse("converter:shared-output", args=[task.share_key, 0, "gif"]))
    assert image.status_code == 200 and image["Content-Type"] == "image/gif"
    assert b"".join(image.streaming_content)[:6] == b"GIF89a"
    assert client.get(reverse("converter:shared", args=["not-a-key"])).status_code == 404


def test_share_link_can_redirect_to_a_freshly_signed_url(client, clips, settings):
    settings.CONVERTER_DELIVERY = "redirect"
    task = make_finished_task(clips.moving())
    response = client.get(reverse("converter:shared-output", args=[task.share_key, 0, "gif"]))
    assert response.status_code == 302 and "X-Amz-Signature=" in response["Location"]
    import urllib.request

    with urllib.request.urlopen(response["Location"]) as fetched:  # noqa: S310  (our S3 server's)
        assert fetched.read(6) == b"GIF89a"
