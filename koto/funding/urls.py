from django.urls import path

from koto.funding import views

app_name = "funding"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("report/", views.report, name="report"),
    path("reconcile/", views.reconcile_view, name="reconcile"),
    path("claims/", views.claim_list, name="claims"),
    path("claims/new/", views.claim_create, name="claim_create"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:claim_id>/export.csv", views.claim_export, name="claim_export"),
    path(
        "claims/<int:claim_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("claims/<int:claim_id>/<slug:operation>/", views.claim_act, name="claim_act"),
]
