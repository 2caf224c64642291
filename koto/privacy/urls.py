from django.urls import path

from koto.privacy import views

app_name = "privacy"
urlpatterns = [
    path("<int:client_id>/export/", views.export_page, name="export"),
    path("<int:client_id>/export.json", views.export_json, name="export_json"),
]
