from django.urls import path

from koto.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.my_clients, name="my_clients"),
    path("search/", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("<int:client_id>/", views.detail, name="detail"),
    path("<int:client_id>/edit/", views.edit, name="edit"),
    path("<int:client_id>/counsellor/", views.counsellor, name="counsellor"),
    path("<int:client_id>/audit/", views.audit_trail, name="audit"),
    path("<int:client_id>/timeline/", views.timeline, name="timeline"),
    path("<int:client_id>/meetings/", views.meetings, name="meetings"),
    path("<int:client_id>/break-glass/", views.break_glass, name="break_glass"),
    path("<int:client_id>/consents/new/", views.consent_add, name="consent_add"),
    path(
        "<int:client_id>/consents/<int:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("<int:client_id>/family/new/", views.family_add, name="family_add"),
    path("<int:client_id>/meetings/new/", views.meeting_add, name="meeting_add"),
]
