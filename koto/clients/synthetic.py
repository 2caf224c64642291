"""Synthetic but realistic people for demo data, scale data and tests (deterministic with a
seeded random.Random). Names come with the transliteration variants caseworkers meet."""

import datetime as dt
import random

from koto.clients.models import Gender, LawFact, ResidenceBasis

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"

# origin: (citizenship, mother tongue, first names F, first names M, last names with variants)
ORIGINS = {
    "UA": (
        "UA",
        "uk",
        ["Olena", "Iryna", "Oksana", "Natalia", "Yuliia"],
        ["Oleksandr", "Andrii", "Serhii", "Dmytro", "Mykola"],
        [
            ("Shevchenko", "Ševtšenko"),
            ("Kovalenko", "Kovalenko"),
            ("Bondarenko", "Bondarenko"),
            ("Tkachenko", "Tkatšenko"),
            ("Melnyk", "Melnik"),
        ],
    ),
    "SY": (
        "SY",
        "ar",
        ["Fatima", "Aisha", "Rania", "Lina", "Noor"],
        ["Mohammed", "Ahmad", "Khaled", "Omar", "Yousef"],
        [
            ("Al-Hassan", "Alhasan"),
            ("Haddad", "Hadad"),
            ("Khalil", "Chalil"),
            ("Al-Ahmad", "Alahmad"),
            ("Darwish", "Darwiche"),
        ],
    ),
    "AF": (
        "AF",
        "prs",
        ["Zahra", "Maryam", "Farzana", "Shabnam", "Parwana"],
        ["Mohammad", "Ali", "Hamid", "Reza", "Jawad"],
        [
            ("Ahmadi", "Ahmady"),
            ("Hosseini", "Husseini"),
            ("Rahimi", "Rahimy"),
            ("Karimi", "Karimy"),
            ("Sultani", "Soltani"),
        ],
    ),
    "SO": (
        "SO",
        "so",
        ["Hodan", "Amina", "Sahra", "Ifrah", "Hamdi"],
        ["Abdi", "Mohamed", "Hassan", "Abdullahi", "Yusuf"],
        [
            ("Warsame", "Warsame"),
            ("Hussein", "Husein"),
            ("Farah", "Faarax"),
            ("Jama", "Jaamac"),
            ("Ali", "Cali"),
        ],
    ),
    "IQ": (
        "IQ",
        "ar",
        ["Zainab", "Huda", "Samar", "Marwa", "Dunya"],
        ["Hussein", "Ali", "Mustafa", "Haider", "Ammar"],
        [
            ("Al-Saadi", "Alsaadi"),
            ("Jabbar", "Jabar"),
            ("Kadhim", "Kazem"),
            ("Al-Obaidi", "Alobaidi"),
            ("Hamad", "Hammad"),
        ],
    ),
    "RU": (
        "RU",
        "ru",
        ["Anna", "Elena", "Olga", "Tatiana", "Svetlana"],
        ["Ivan", "Sergei", "Alexei", "Dmitri", "Nikolai"],
        [
            ("Ivanov", "Ivanov"),
            ("Smirnov", "Smirnov"),
            ("Kuznetsov", "Kuznetsov"),
            ("Popov", "Popov"),
            ("Sokolov", "Sokolov"),
        ],
    ),
    "ER": (
        "ER",
        "ti",
        ["Senait", "Helen", "Rahel", "Mebrat", "Selam"],
        ["Yonas", "Dawit", "Tesfaye", "Kidane", "Amanuel"],
        [
            ("Tesfamariam", "Tesfamariam"),
            ("Gebremedhin", "Gebremedhn"),
            ("Haile", "Hailé"),
            ("Berhane", "Berhe"),
            ("Weldu", "Woldu"),
        ],
    ),
    "CD": (
        "CD",
        "fr",
        ["Esther", "Grace", "Nadine", "Josiane", "Aline"],
        ["Jean", "Patrick", "Emmanuel", "Pierre", "Christian"],
        [
            ("Mukendi", "Mukendi"),
            ("Kabongo", "Kabongo"),
            ("Ilunga", "Ilunga"),
            ("Mbuyi", "Mbuyi"),
            ("Tshibangu", "Chibangu"),
        ],
    ),
    "VN": (
        "VN",
        "vi",
        ["Linh", "Thu", "Huong", "Mai", "Lan"],
        ["Minh", "Tuan", "Hung", "Duc", "Nam"],
        [
            ("Nguyen", "Nguyễn"),
            ("Tran", "Trần"),
            ("Le", "Lê"),
            ("Pham", "Phạm"),
            ("Hoang", "Huỳnh"),
        ],
    ),
    "IN": (
        "IN",
        "hi",
        ["Priya", "Anjali", "Deepa", "Kavya", "Sneha"],
        ["Rahul", "Arjun", "Vikram", "Rohan", "Amit"],
        [
            ("Sharma", "Sharma"),
            ("Patel", "Patel"),
            ("Singh", "Singh"),
            ("Kumar", "Kumar"),
            ("Reddy", "Reddy"),
        ],
    ),
}

# (residence basis, typical origins, weight)
BASES = [
    (ResidenceBasis.TEMPORARY_PROTECTION, ["UA"], 30),
    (ResidenceBasis.QUOTA_REFUGEE, ["SY", "AF", "CD", "ER"], 8),
    (ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE, ["SY", "AF", "CD"], 3),
    (ResidenceBasis.ASYLUM, ["SY", "AF", "IQ", "ER", "SO"], 8),
    (ResidenceBasis.SUBSIDIARY_PROTECTION, ["SO", "IQ", "AF"], 5),
    (ResidenceBasis.FAMILY_OF_PROTECTED, ["SO", "SY", "ER"], 4),
    (ResidenceBasis.HUMANITARIAN, ["IQ", "AF"], 1),
    (ResidenceBasis.WORK, ["IN", "VN", "RU"], 16),
    (ResidenceBasis.FAMILY, ["RU", "VN", "IN", "IQ"], 12),
    (ResidenceBasis.STUDY, ["VN", "IN"], 6),
    (ResidenceBasis.OTHER_PERMIT, ["RU"], 2),
    (ResidenceBasis.ASYLUM_SEEKER, ["IQ", "SO", "AF"], 5),
]
_BASIS_WEIGHTS = [w for _, _, w in BASES]
PROTECTION = {
    ResidenceBasis.QUOTA_REFUGEE, ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE, ResidenceBasis.ASYLUM,
    ResidenceBasis.SUBSIDIARY_PROTECTION, ResidenceBasis.FAMILY_OF_PROTECTED, ResidenceBasis.HUMANITARIAN,
}  # fmt: skip


def hetu_for(birth_date: dt.date, individual: int) -> str:
    """A checksum-valid personal identity code for a birth date (individual 002–899)."""
    sep = {18: "+", 19: "-", 20: "A"}[birth_date.year // 100]
    digits = f"{birth_date:%d%m%y}{individual:03d}"
    return f"{birth_date:%d%m%y}{sep}{individual:03d}{HETU_CHECK[int(digits) % 31]}"


def synthetic_person(rng: random.Random, *, on: dt.date, with_hetu_share: float = 0.85) -> dict:
    """Data for one client, as `clients.services.client_create` takes it (no organisation)."""
    basis, origins, _w = rng.choices(BASES, weights=_BASIS_WEIGHTS)[0]
    citizenship, tongue, female, male, lasts = ORIGINS[rng.choice(origins)]
    gender = rng.choice([Gender.FEMALE, Gender.MALE])
    first = rng.choice(female if gender == Gender.FEMALE else male)
    last, variant = rng.choice(lasts)
    age = rng.choices([rng.randint(0, 6), rng.randint(7, 17), rng.randint(18, 29), rng.randint(30, 64), rng.randint(65, 80)],
                      weights=[8, 12, 35, 40, 5])[0]  # fmt: skip
    birth = on - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    arrived_days_ago = rng.randint(10, 5 * 365)
    permit = (
        None
        if basis == ResidenceBasis.ASYLUM_SEEKER
        else max(birth, on - dt.timedelta(days=arrived_days_ago))
    )
    home_on = None
    if permit and (basis != ResidenceBasis.TEMPORARY_PROTECTION or arrived_days_ago > 365):
        home_on = permit + dt.timedelta(days=rng.randint(0, 60))
        if basis == ResidenceBasis.TEMPORARY_PROTECTION:
            home_on = max(home_on, permit + dt.timedelta(days=366))
        home_on = min(home_on, on)
    adult = age >= 18
    if not adult and basis in (ResidenceBasis.WORK, ResidenceBasis.STUDY):
        basis = ResidenceBasis.FAMILY  # children come with a working or studying parent
    data = {
        "first_name": first,
        "last_name": last,
        "birth_date": birth,
        "gender": gender,
        "citizenship": citizenship,
        "mother_tongue": tongue,
        "other_languages": ["en"] if rng.random() < 0.4 else [],
        "interpreter_needed": rng.random() < 0.6,
        "residence_basis": basis,
        "first_permit_on": permit,
        "home_municipality_on": home_on,
        "phone": f"+35840{rng.randint(1000000, 9999999)}" if adult else "",
        "transliterated_names": [f"{first} {variant}"] if variant != last else [],
        LawFact.UNEMPLOYED_JOBSEEKER: adult and age < 65 and rng.random() < 0.35,
        LawFact.SOCIAL_ASSISTANCE_LONG_TERM: adult and rng.random() < 0.12,
        LawFact.CHILD_HOME_CARE_ALLOWANCE: adult and rng.random() < 0.06,
        LawFact.ARRIVED_AS_UNACCOMPANIED_MINOR: basis in PROTECTION
        and 16 <= age <= 22
        and rng.random() < 0.3,
        LawFact.TRAFFICKING_VICTIM: rng.random() < 0.01,
        LawFact.OTHER_NEED_IDENTIFIED: rng.random() < 0.05,
        LawFact.WELFARE_SERVICE_NEEDS: basis in PROTECTION and rng.random() < 0.3,
    }
    if data["interpreter_needed"]:
        data["interpreter_language"] = tongue
    if permit and home_on and rng.random() < with_hetu_share:
        data["hetu"] = hetu_for(birth, rng.randint(2, 899))
    return data
