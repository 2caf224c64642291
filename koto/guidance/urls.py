from django.urls import path

from koto.guidance import views

app_name = "guidance"
urlpatterns = [
    path("", views.log, name="log"),
    path("contacts/<int:contact_id>/", views.detail, name="detail"),
    path("report/", views.report, name="report"),
]
