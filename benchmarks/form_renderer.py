"""The form renderer (`koto.core.widgets.FormRenderer`) against Django's own
(`DjangoTemplates`) on the pages with the largest forms, alternating between the two in
rounds in one process, so both see the same machine. Also checks that both write the same
page (the CSRF token and the CSP nonce aside, which differ on every response).

Usage: python -m benchmarks.form_renderer [--requests 40] [--rounds 8]

Runs on the demo data in its own SQLite file (var/bench_forms.sqlite3): what the renderer
saves is per form field, not per row in the database."""

import argparse
import os
import re
import statistics
import time

from benchmarks.common import ROOT, machine, manage, percentile, write_result

RENDERERS = {
    "django": "django.forms.renderers.DjangoTemplates",
    "koto": "koto.core.widgets.FormRenderer",
}
RANDOM = re.compile(rb'(nonce|value)="[A-Za-z0-9_-]{22,64}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=40, help="per page, renderer and round")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()

    url = f"sqlite:///{ROOT / 'var' / 'bench_forms.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    os.environ["KOTO_SECURE_COOKIES"] = "false"
    import django

    django.setup()
    from django.conf import settings
    from django.forms.renderers import get_default_renderer
    from django.test import Client as HttpClient

    from koto.accounts.models import User
    from koto.assessments.models import Assessment
    from koto.core import clock

    settings.ALLOWED_HOSTS = ["*"]
    (ROOT / "var").mkdir(exist_ok=True)
    manage("migrate", "--noinput", "-v0", url=url)
    manage("load_demo", "--demo-server", url=url)

    user = User.objects.get(username="lahti.neuvoja")
    organisation = user.memberships.first().organisation
    assessment = (
        Assessment.objects.filter(organisation=organisation, status=Assessment.Status.STARTED)
        .order_by("id")
        .first()
    )
    client_id = assessment.client_id
    pages = {
        "client_new": "/clients/new/",
        "client_edit": f"/clients/{client_id}/edit/",
        "assessment_interview": f"/assessments/{assessment.id}/interview/",
        "enrol_form": f"/services/clients/{client_id}/enrol/",
        "meeting_form": f"/clients/{client_id}/meetings/new/",
        "guidance_log": "/guidance/",
    }
    http = HttpClient()
    http.force_login(user, backend="koto.accounts.backends.MembershipModelBackend")

    results = {}
    for name, path in pages.items():
        times: dict[str, list[float]] = {k: [] for k in RENDERERS}
        bodies: dict[str, bytes] = {}
        for _round in range(args.rounds):
            for key, renderer in RENDERERS.items():
                settings.FORM_RENDERER = renderer
                get_default_renderer.cache_clear()
                response = http.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                bodies[key] = RANDOM.sub(b"", response.content)
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    http.get(path)
                    times[key].append((time.perf_counter() - t0) * 1000)
        median = {k: statistics.median(v) for k, v in times.items()}
        results[name] = {
            "path": path,
            "n": len(times["koto"]),
            **{f"{k}_median_ms": round(median[k], 2) for k in RENDERERS},
            **{f"{k}_p95_ms": round(percentile(times[k], 0.95), 2) for k in RENDERERS},
            "ratio": round(median["koto"] / median["django"], 3),
            "same_html": bodies["koto"] == bodies["django"],
        }
    settings.FORM_RENDERER = RENDERERS["koto"]
    get_default_renderer.cache_clear()
    result = {
        "benchmark": "form_renderer",
        "db": "sqlite (demo data)",
        "date": clock.today().isoformat(),
        "machine": machine(),
        "rounds": args.rounds,
        "results": results,
        "median_ratio": round(statistics.median(r["ratio"] for r in results.values()), 3),
    }
    print(write_result("form_renderer", result))
    for name, r in results.items():
        print(
            f"{name:22} Django {r['django_median_ms']:6.2f} ms  Koto {r['koto_median_ms']:6.2f} ms"
            f"  ratio {r['ratio']:.3f}  same page {r['same_html']}"
        )


if __name__ == "__main__":
    main()
