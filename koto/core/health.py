from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """Liveness probe; also the benchmarks' floor (a trivial Django view)."""
    return HttpResponse("ok", content_type="text/plain")
