from django.urls import path

from koto.offerings import views

app_name = "offerings"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("new/", views.service_create, name="create"),
    path("<int:service_id>/", views.service_detail, name="detail"),
    path("<int:service_id>/edit/", views.service_edit, name="edit"),
    path("clients/<int:client_id>/enrol/", views.enrol_client, name="enrol_client"),
    path(
        "clients/<int:client_id>/language-results/new/",
        views.language_result,
        name="language_result",
    ),
    path("enrolments/<int:enrolment_id>/attendance/", views.attendance, name="attendance"),
    path(
        "enrolments/<int:enrolment_id>/<str:operation>/",
        views.enrolment_operation,
        name="enrolment_operation",
    ),
]
