from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from koto.api.urls import api, not_found
from koto.core.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="clients:my_clients", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("koto.accounts.urls")),
    path("clients/", include("koto.clients.urls")),
    path("clients/", include("koto.privacy.urls")),
    path("assessments/", include("koto.assessments.urls")),
    path("plans/", include("koto.plans.urls")),
    path("guidance/", include("koto.guidance.urls")),
    path("referrals/", include("koto.referrals.urls")),
    path("services/", include("koto.offerings.urls")),
    path("placement/", include("koto.placement.urls")),
    path("funding/", include("koto.funding.urls")),
    path("insights/", include("koto.insights.urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", not_found),  # after the API's own paths
    path("admin/", admin.site.urls),
]
