from django.urls import path

from koto.referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/<int:client_id>/", views.create, name="create"),
    path("<int:referral_id>/", views.detail, name="detail"),
    path("<int:referral_id>/print/", views.printable, name="print"),
    path("<int:referral_id>/<slug:operation>/", views.act, name="act"),
]
