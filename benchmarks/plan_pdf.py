"""Benchmark: seconds to render the client's integration plan PDF (WeasyPrint).

A realistic plan (5 goals with 3 actions each) in Arabic with the Finnish copy is rendered
``--runs`` times (default 20) after 2 warm-ups in one process; min/median/max wall-clock
seconds, the page count and the PDF size go to ``benchmarks/results/plan_pdf.json``.
Target: median ≤ 1 s. The median CPU time of the process and the load average are recorded
too: on a busy machine the wall-clock times grow while the CPU time does not.

    .venv/bin/python -m benchmarks.plan_pdf
"""

import argparse
import io
import os
import statistics
import time
from datetime import date

TARGET_MEDIAN_S = 1.0


def realistic_plan():
    from koto.plans.documents import ActionLine, GoalLine, PlanDocument

    def actions(*rows):
        return tuple(
            ActionLine(
                what=what,
                responsible=responsible,
                responsible_name=name,
                planned_on=planned,
                done_on=done,
                service=service,
            )
            for what, responsible, name, planned, done, service in rows
        )

    counsellor, client = "Liisa Virtanen", "Amina Hassan"
    goals = (
        GoalLine(
            area="language",
            description="Opin suomea tasolle A2.2, jotta pärjään asioinnissa ja työelämässä.",
            actions=actions(
                (
                    "Osallistuu kotoutumiskoulutukseen (suomen kieli ja yhteiskuntaopinnot).",
                    "client",
                    client,
                    date(2025, 3, 3),
                    date(2025, 3, 3),
                    "Kotoutumiskoulutus, Lahden kansanopisto",
                ),
                (
                    "Varaa ajan lähtötason kielitaidon arviointiin.",
                    "counsellor",
                    counsellor,
                    date(2025, 2, 10),
                    date(2025, 2, 12),
                    "Lähtötason arviointi",
                ),
                (
                    "Käy keskustelukerhossa kirjastossa kerran viikossa.",
                    "client",
                    client,
                    date(2025, 3, 10),
                    None,
                    "",
                ),
            ),
        ),
        GoalLine(
            area="work",
            description="Haluan työskennellä ravintola-alalla; kokemusta kotimaasta 6 vuotta.",
            actions=actions(
                (
                    "Tekee CV:n ja työnhakuprofiilin Työmarkkinatorille.",
                    "client",
                    client,
                    date(2025, 4, 1),
                    None,
                    "Työnhakuvalmennus",
                ),
                (
                    "Selvittää hygieniapassin suorittamisen.",
                    "counsellor",
                    counsellor,
                    date(2025, 4, 15),
                    None,
                    "",
                ),
                (
                    "Työkokeilu henkilöstöravintolassa 3 kuukautta.",
                    "other_organisation",
                    "Lahden seudun työllisyyspalvelut",
                    date(2025, 9, 1),
                    None,
                    "Työkokeilu",
                ),
            ),
        ),
        GoalLine(
            area="everyday_life",
            description="أريد أن أتعلم كيف أتعامل مع البنك ومكتب الضمان الاجتماعي (Kela) بنفسي.",
            actions=actions(
                (
                    "Ohjaus verkkopankkitunnusten hankintaan.",
                    "counsellor",
                    counsellor,
                    date(2025, 2, 20),
                    date(2025, 2, 27),
                    "Palveluohjaus",
                ),
                (
                    "Käy Kelan asiointikoulutuksessa.",
                    "client",
                    client,
                    date(2025, 3, 18),
                    None,
                    "Digituki",
                ),
                (
                    "Järjestää tulkin Kela-käynnille.",
                    "counsellor",
                    counsellor,
                    date(2025, 3, 18),
                    None,
                    "",
                ),
            ),
        ),
        GoalLine(
            area="parenting",
            description="Lapset (5 ja 8 v.) saavat paikan varhaiskasvatuksesta ja koulusta.",
            actions=actions(
                (
                    "Hakee varhaiskasvatuspaikkaa.",
                    "client",
                    client,
                    date(2025, 2, 15),
                    date(2025, 2, 14),
                    "Varhaiskasvatus",
                ),
                (
                    "Perheneuvolan tutustumiskäynti.",
                    "other_organisation",
                    "Päijät-Hämeen hyvinvointialue",
                    date(2025, 4, 8),
                    None,
                    "Perheneuvola",
                ),
                (
                    "Vanhempainryhmä arabiaksi.",
                    "other_organisation",
                    "Monikulttuurikeskus Lahti",
                    date(2025, 5, 6),
                    None,
                    "",
                ),
            ),
        ),
        GoalLine(
            area="participation",
            description="Tutustun lähialueen yhdistyksiin ja vapaaehtoistoimintaan.",
            actions=actions(
                (
                    "Tutustuu SPR:n ystävätoimintaan.",
                    "client",
                    client,
                    date(2025, 5, 20),
                    None,
                    "",
                ),
                (
                    "Antaa yhteystiedot paikallisiin yhdistyksiin.",
                    "counsellor",
                    counsellor,
                    date(2025, 3, 3),
                    date(2025, 3, 3),
                    "",
                ),
                (
                    "Kirjaston käyttäjäkoulutus.",
                    "other_organisation",
                    "Lahden kaupunginkirjasto",
                    date(2025, 3, 25),
                    None,
                    "Kirjasto",
                ),
            ),
        ),
    )
    return PlanDocument(
        client_name=client,
        client_birth_date=date(1990, 4, 12),
        client_identifier="120490-123A",
        organisation_name="Lahden kaupunki, maahanmuuttajapalvelut",
        counsellor_name=counsellor,
        counsellor_contact="+358 44 716 1234, liisa.virtanen@lahti.fi",
        kind="multisectoral",
        status="active",
        starts_on=date(2025, 2, 3),
        ends_on=date(2026, 2, 2),
        next_review_on=date(2025, 8, 4),
        goals=goals,
        acknowledged_on=date(2025, 2, 3),
        acknowledgement_method="signature",
        interpreter_language="ar",
        generated_on=date(2025, 3, 5),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    import django

    django.setup()

    from pypdf import PdfReader

    from benchmarks.common import machine, write_result
    from koto.core.clock import today
    from koto.plans.documents import document_languages, render_plan_pdf

    plan = realistic_plan()
    languages = document_languages("ar")
    for _ in range(args.warmup):
        pdf = render_plan_pdf(plan, languages)
    load_before = os.getloadavg()[0]
    times, cpu_times = [], []
    for _ in range(args.runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        pdf = render_plan_pdf(plan, languages)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)

    payload = {
        "benchmark": "plan_pdf",
        "date": today().isoformat(),
        "n": args.runs,
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "bytes": len(pdf),
        "median_cpu_s": round(statistics.median(cpu_times), 3),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "languages": languages,
        "goals": len(plan.goals),
        "actions": sum(len(goal.actions) for goal in plan.goals),
        "target_median_s": TARGET_MEDIAN_S,
        "machine": machine(),
    }
    path = write_result("plan_pdf", payload)
    print(
        f"plan PDF ({'+'.join(languages)}, {payload['pages']} pages, {payload['bytes']} bytes): "
        f"min {payload['min_s']} s, median {payload['median_s']} s, max {payload['max_s']} s "
        f"(target median ≤ {TARGET_MEDIAN_S} s; median CPU {payload['median_cpu_s']} s, "
        f"load {payload['load_average_1min']}) → {path}"
    )


if __name__ == "__main__":
    main()
