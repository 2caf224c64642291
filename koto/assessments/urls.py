from django.urls import path

from koto.assessments import views

app_name = "assessments"
urlpatterns = [
    path("clients/<int:client_id>/new/", views.start, name="start"),
    path("<int:assessment_id>/", views.detail, name="detail"),
    path("<int:assessment_id>/interview/", views.interview, name="interview"),
    path("<int:assessment_id>/complete/", views.complete, name="complete"),
    path("<int:assessment_id>/measures/new/", views.measure_add, name="measure_add"),
    path(
        "<int:assessment_id>/measures/<int:measure_id>/result/",
        views.measure_result,
        name="measure_result",
    ),
    path(
        "<int:assessment_id>/measures/<int:measure_id>/remove/",
        views.measure_remove,
        name="measure_remove",
    ),
]
