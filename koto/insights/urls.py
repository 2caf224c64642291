from django.urls import path

from koto.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export, {"file_format": "csv"}, name="export_csv"),
    path("export.xlsx", views.export, {"file_format": "xlsx"}, name="export_xlsx"),
    path("impact/", views.impact, name="impact"),
    path("impact/export.csv", views.impact_export, {"file_format": "csv"}, name="impact_csv"),
    path("impact/export.xlsx", views.impact_export, {"file_format": "xlsx"}, name="impact_xlsx"),
]
