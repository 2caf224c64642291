from django.urls import path

from koto.placement import views

app_name = "placement"
urlpatterns = [
    path("", views.placement_list, name="list"),
    path("new/", views.propose, name="propose"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:agreement_id>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:agreement_id>/edit/", views.agreement_edit, name="agreement_edit"),
    path(
        "agreements/<int:agreement_id>/consult/",
        views.agreement_consult,
        name="agreement_consult",
    ),
    path("agreements/<int:agreement_id>/sign/", views.agreement_sign, name="agreement_sign"),
    path("agreements/<int:agreement_id>/revise/", views.agreement_revise, name="agreement_revise"),
    path("minors/", views.minor_list, name="minors"),
    path("minors/<int:care_id>/", views.minor_detail, name="minor_detail"),
    path("<int:placement_id>/", views.detail, name="detail"),
    path("<int:placement_id>/consult/", views.consult, name="consult"),
    path("<int:placement_id>/health-check/", views.health_check, name="health_check"),
    path("<int:placement_id>/<slug:operation>/", views.act, name="act"),
]
