from django.urls import path

from koto.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.KotoLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("membership/", views.membership_switch, name="membership_switch"),
    path("password/", views.password_change, name="password_change"),
    path("organisation/", views.organisation_admin, name="organisation_admin"),
    path("organisation/members/add/", views.member_add, name="member_add"),
    path(
        "organisation/members/<int:membership_id>/deactivate/",
        views.member_deactivate,
        name="member_deactivate",
    ),
    path("organisation/tokens/", views.tokens, name="tokens"),
    path("organisation/tokens/add/", views.token_add, name="token_add"),
    path("organisation/tokens/<int:token_id>/approve/", views.token_approve, name="token_approve"),
    path("organisation/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
