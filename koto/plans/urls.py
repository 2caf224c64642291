from django.urls import path

from koto.plans import views

app_name = "plans"
urlpatterns = [
    path("my-work/", views.my_work, name="my_work"),
    path("clients/<int:client_id>/new/", views.create, name="create"),
    path("<int:plan_id>/", views.detail, name="detail"),
    path("<int:plan_id>/edit/", views.edit, name="edit"),
    path("<int:plan_id>/goals/new/", views.goal_add, name="goal_add"),
    path("<int:plan_id>/goals/<int:goal_id>/actions/new/", views.action_add, name="action_add"),
    path("<int:plan_id>/actions/<int:action_id>/done/", views.action_done, name="action_done"),
    path("<int:plan_id>/activate/", views.activate, name="activate"),
    path("<int:plan_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:plan_id>/extend/", views.extend, name="extend"),
    path("<int:plan_id>/review/", views.review, name="review"),
    path("<int:plan_id>/end/", views.end, name="end"),
    path("<int:plan_id>/cancel/", views.cancel, name="cancel"),
    path("<int:plan_id>/document/", views.document, name="document"),
    path("<int:plan_id>/pdf/", views.pdf_request, name="pdf_request"),
    path("<int:plan_id>/pdf/<int:pdf_id>/", views.pdf_download, name="pdf_download"),
]
