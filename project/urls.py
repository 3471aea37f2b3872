from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from converter.views import web

# Accounts have no e-mail address, so there is no reset by e-mail (the
# administrator sets a forgotten password: ``manage.py changepassword NAME``);
# only the account views that work without one are routed.
accounts = [
    path("login/", web.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The site's own pages (the admin keeps its own under registration/).
    path(
        "password_change/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change_form.html"),
        name="password_change",
    ),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(accounts)),
    path("django-rq/", include("django_rq.urls")),
    path("", include("converter.urls")),
]
