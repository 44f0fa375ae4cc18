"""Demo patients: about 200 realistic French identities with valid NIRs, and a plausible
primary-care history for each of them.

Everything is deterministic (seeded) so that a re-run produces the same people and the
same histories. A history is first *planned* (``plan_history``: pure, no database), then
*written* through the records services (``demo_history_write``), so that every entry is
validated, checked by the policy and audited like one a practitioner would type.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.access.models import SensitivityLabel
from core.access.policy import Actor
from core.audit import services as audit
from records import nir
from records import services as records
from records.access import PatientAccess, access_for
from records.models import (
    Allergy,
    Drug,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    Problem,
)
from records.selectors.coding import cim10_code

FAMILY_NAMES = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Marie",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Rolland",
    "Leclercq",
    "Guillaume",
    "Lecomte",
    "Lopez",
    "Jean",
    "Dupuy",
    "Guillot",
    "Hubert",
    "Berger",
    "Carpentier",
    "Sanchez",
    "Dupuis",
    "Moulin",
    "Louis",
    "Deschamps",
    "Huet",
    "Vasseur",
    "Perez",
    "Boucher",
    "Fleury",
    "Royer",
    "Klein",
    "Jacquet",
    "Adam",
    "Paris",
    "Poirier",
    "Marty",
    "Aubry",
    "Guyot",
    "Carré",
    "Charles",
    "Renault",
    "Charpentier",
    "Ménard",
    "Maillard",
    "Baron",
    "Bertin",
    "Bailly",
    "Hervé",
    "Schneider",
    "Fernandez",
    "Le Gall",
    "Collet",
    "Léger",
    "Bouvier",
    "Julien",
    "Prévost",
    "Millet",
    "Perrot",
    "Daniel",
    "Le Roux",
    "Cousin",
    "Germain",
    "Breton",
    "Besson",
    "Langlois",
    "Rémy",
    "Le Goff",
    "Pelletier",
    "Lévêque",
    "Perrier",
    "Leblanc",
    "Barré",
    "Lebrun",
    "Marchal",
    "Weber",
    "Mallet",
    "Hamon",
    "Boulanger",
    "Jacob",
    "Monnier",
    "Michaud",
    "Rodriguez",
    "Guichard",
    "Gillet",
    "Étienne",
    "Grondin",
    "Poulain",
    "Tessier",
    "Chevallier",
    "Collin",
    "Chauvin",
    "Da Silva",
    "Bouchet",
    "Gay",
    "Lemaître",
    "Bénard",
    "Maréchal",
    "Humbert",
    "Reynaud",
    "Antoine",
    "Hoarau",
    "Perret",
    "Barthélemy",
    "Cordier",
    "Pichon",
    "Lejeune",
    "Gilbert",
    "Lamy",
    "Delaunay",
    "Pasquier",
    "Carlier",
    "Laporte",
]
FEMALE_NAMES = [
    "Marie",
    "Jeanne",
    "Françoise",
    "Monique",
    "Catherine",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Anne",
    "Christine",
    "Martine",
    "Valérie",
    "Sandrine",
    "Sophie",
    "Céline",
    "Hélène",
    "Aurélie",
    "Julie",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Louise",
    "Jade",
    "Zoé",
    "Élodie",
    "Mathilde",
    "Océane",
    "Agnès",
    "Brigitte",
    "Geneviève",
    "Odette",
    "Yvette",
    "Josiane",
    "Maëlle",
    "Anaïs",
    "Clémence",
    "Noémie",
]
MALE_NAMES = [
    "Jean",
    "Pierre",
    "Michel",
    "André",
    "Philippe",
    "Alain",
    "Bernard",
    "Jacques",
    "Daniel",
    "Patrick",
    "Nicolas",
    "Christophe",
    "Stéphane",
    "Laurent",
    "Frédéric",
    "Julien",
    "Thomas",
    "Nicolas",
    "Maxime",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Raphaël",
    "Léo",
    "Théo",
    "Noé",
    "Étienne",
    "François",
    "Gérard",
    "René",
    "Marcel",
    "Yves",
    "Hervé",
    "Benoît",
    "Mathis",
    "Enzo",
    "Loïc",
]
# (department+commune INSEE code, city, postal code) — towns near a fictional practice
# in the Rhône, plus a few births elsewhere and abroad (99 + country code).
BIRTH_PLACES = [
    ("69123", "Lyon"),
    ("69266", "Villeurbanne"),
    ("38185", "Grenoble"),
    ("42218", "Saint-Étienne"),
    ("75056", "Paris"),
    ("13055", "Marseille"),
    ("31555", "Toulouse"),
    ("59350", "Lille"),
    ("2A004", "Ajaccio"),
    ("2B033", "Bastia"),
    ("67482", "Strasbourg"),
    ("99350", "Maroc"),
    ("99134", "Espagne"),
    ("99139", "Portugal"),
    ("97411", "Saint-Denis (La Réunion)"),
]
HOME_TOWNS = [
    ("69100", "Villeurbanne"),
    ("69003", "Lyon"),
    ("69008", "Lyon"),
    ("69500", "Bron"),
    ("69120", "Vaulx-en-Velin"),
    ("69200", "Vénissieux"),
]
STREETS = [
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Paul Verlaine",
    "cours Émile Zola",
    "rue Anatole France",
    "place Lazare Goujon",
    "rue Francis de Pressensé",
    "avenue Roger Salengro",
    "rue du 4 Août 1789",
    "boulevard Laurent Bonnevay",
    "rue des Tilleuls",
    "chemin des Églantines",
]


def demo_identities(count: int = 200, seed: int = 42) -> list[dict[str, object]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    people: list[dict[str, object]] = []
    used_nirs: set[str] = set()
    while len(people) < count:
        sex = rng.choice("FM")
        given = rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
        if rng.random() < 0.3:
            given += " " + rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
        birth_name = rng.choice(FAMILY_NAMES)
        used_name = ""
        if sex == "F" and rng.random() < 0.35:
            used_name = rng.choice(FAMILY_NAMES)
        birth = date(1932, 1, 1) + timedelta(days=rng.randrange(0, 92 * 365))
        place_code, place_name = rng.choice(BIRTH_PLACES)
        order = rng.randrange(1, 999)
        number = nir.make("2" if sex == "F" else "1", birth, place_code, order)
        if number in used_nirs:
            continue
        used_nirs.add(number)
        postal_code, city = rng.choice(HOME_TOWNS)
        people.append(
            {
                "birth_name": birth_name,
                "used_name": used_name,
                "given_names": given,
                "sex": sex,
                "birth_date": birth,
                "birth_place": place_name,
                "nir": number,
                "address": f"{rng.randrange(1, 180)} {rng.choice(STREETS)}",
                "postal_code": postal_code,
                "city": city,
                "phone": f"0{rng.choice('4567')} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
                f" {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
                if rng.random() < 0.8
                else "",
            }
        )
    return people


# Histories ------------------------------------------------------------------------------
#
# The catalogues below are small on purpose: enough variety for a demo and for benchmark
# data (records.volume reuses them), with real CIM-10 codes (stored without the dot, as
# in the Cim10Code table) and real BDPM drugs (CIS code and name as in CIS_bdpm.txt).

HISTORY_YEARS = 4  # consultations are spread over the last four years
MAX_CONSULTATIONS = 10
MENTAL_HEALTH = SensitivityLabel.MENTAL_HEALTH.value


@dataclass(frozen=True)
class Medicine:
    """A drug line as a GP writes it. ``cis`` is empty for products that are not in the
    BDPM (they are prescribed as free text)."""

    cis: str
    label: str  # the BDPM name, so that the free-text fallback reads the same
    posology: str
    duration_days: int = 30
    avoid_with: str = ""  # an allergy substance that rules this drug out...
    instead: Medicine | None = None  # ...and what is prescribed then


PARACETAMOL = Medicine(
    "60234100",
    "DOLIPRANE 1000 mg, comprimé",
    "1 comprimé toutes les 6 heures si douleur ou fièvre, 4 par jour au maximum",
    5,
)
PARACETAMOL_CHILD = Medicine(
    "66477582",
    "DOLIPRANE 2,4 POUR CENT, suspension buvable",
    "1 dose-poids toutes les 6 heures si fièvre",
    5,
)
PARACETAMOL_LONG = Medicine(
    "68787715",
    "PARACETAMOL BIOGARAN 1 g, comprimé",
    "1 comprimé jusqu'à 3 fois par jour si douleur",
)
IBUPROFEN = Medicine(
    "61000075",
    "IBUPROFENE BIOGARAN 400 mg, comprimé pelliculé",
    "1 comprimé 3 fois par jour au cours des repas",
    5,
    avoid_with="Aspirine",
    instead=PARACETAMOL,
)
AZITHROMYCIN = Medicine(
    "68133135",
    "AZITHROMYCINE ARROW LAB 250 mg, comprimé pelliculé",
    "2 comprimés en une prise par jour pendant 3 jours",
    3,
)
AZITHROMYCIN_CHILD = Medicine(
    "",  # prescribed by name: shows the free-text path even when the drug table is loaded
    "Azithromycine 40 mg/mL, poudre pour suspension buvable",
    "20 mg/kg en une prise par jour pendant 3 jours",
    3,
)
AMOXICILLIN = Medicine(
    "64539416",
    "CLAMOXYL 1 g, comprimé dispersible",
    "1 comprimé matin et soir pendant 6 jours",
    6,
    avoid_with="Pénicilline",
    instead=AZITHROMYCIN,
)
AMOXICILLIN_CHILD = Medicine(
    "60375058",
    "AMOXICILLINE BIOGARAN 250 mg/5 ml, poudre pour suspension buvable",
    "50 mg/kg/jour en 2 prises pendant 6 jours",
    6,
    avoid_with="Pénicilline",
    instead=AZITHROMYCIN_CHILD,
)
AMOXICILLIN_OTITIS = Medicine(
    "60375058",
    "AMOXICILLINE BIOGARAN 250 mg/5 ml, poudre pour suspension buvable",
    "80 mg/kg/jour en 2 prises pendant 8 jours",
    8,
    avoid_with="Pénicilline",
    instead=AZITHROMYCIN_CHILD,
)
SMECTA = Medicine(
    "69584073",
    "SMECTA 3 g ORANGE-VANILLE, poudre pour suspension buvable en sachet",
    "1 sachet 3 fois par jour pendant 3 jours",
    3,
)
ORAL_REHYDRATION = Medicine(
    "",  # a food for special medical purposes, not a BDPM drug
    "Soluté de réhydratation orale",
    "1 sachet dans 200 mL d'eau, à proposer par petites quantités après chaque selle",
    3,
)
FOSFOMYCIN = Medicine(
    "66806921",
    "FOSFOMYCINE BIOGARAN 3 g, granulés pour solution buvable en sachet",
    "1 sachet en prise unique, à distance des repas",
    1,
)
AMLODIPINE = Medicine("65728601", "AMLODIPINE BIOGARAN 5 mg, gélule", "1 gélule le matin")
RAMIPRIL = Medicine("61599041", "RAMIPRIL BIOGARAN 5 mg, comprimé sécable", "1 comprimé le matin")
METFORMIN = Medicine(
    "67346461",
    "METFORMINE BIOGARAN 1000 mg, comprimé pelliculé",
    "1 comprimé matin et soir au milieu du repas",
)
GLICLAZIDE = Medicine(
    "60952314",
    "GLICLAZIDE ARROW 60 mg, comprimé à libération modifiée",
    "1 comprimé le matin au petit déjeuner",
)
ATORVASTATIN = Medicine(
    "68212077", "ATORVASTATINE BIOGARAN 20 mg, comprimé pelliculé", "1 comprimé le soir"
)
SALBUTAMOL = Medicine(
    "63883282",
    "SALBUTAMOL TEVA 100 microgrammes/dose, suspension pour inhalation en flacon pressurisé",
    "2 bouffées en cas de gêne respiratoire, jusqu'à 4 fois par jour",
)
BECLOMETASONE = Medicine(
    "61209203",
    "QVARSPRAY 100 microgrammes/dose, solution pour inhalation en flacon pressurisé",
    "1 bouffée matin et soir, se rincer la bouche après",
)
SERTRALINE = Medicine("63063793", "SERTRALINE BIOGARAN 50 mg, gélule", "1 gélule le matin", 28)
OMEPRAZOLE = Medicine(
    "67995040",
    "OMEPRAZOLE BIOGARAN 20 mg, gélule gastro-résistante",
    "1 gélule le matin à jeun",
)
LEVOTHYROXINE = Medicine(
    "62080626",
    "LEVOTHYROX 75 microgrammes, comprimé sécable",
    "1 comprimé le matin à jeun, 30 minutes avant le petit déjeuner",
)
CETIRIZINE = Medicine(
    "61665908",
    "CETIRIZINE BIOGARAN 10 mg, comprimé pelliculé sécable",
    "1 comprimé le soir pendant la saison pollinique",
)
APIXABAN = Medicine("61902218", "ELIQUIS 5 mg, comprimé pelliculé", "1 comprimé matin et soir")
BISOPROLOL = Medicine("64432503", "BISOPROLOL EG 2,5 mg, comprimé sécable", "1 comprimé le matin")
HYDROCORTISONE_CREAM = Medicine(
    "66841235",
    "LOCOID 0,1 %, crème",
    "1 application le soir sur les plaques d'eczéma pendant 7 jours",
    7,
)


@dataclass(frozen=True)
class Vaccine:
    cis: str
    brand: str
    disease: str  # what the vaccine protects against, as written in the record

    @property
    def label(self) -> str:
        return f"{self.disease} ({self.brand})"


HEXAVALENT = Vaccine("62966063", "INFANRIX hexa", "DTCaP-Hib-Hépatite B")
PNEUMOCOCCAL = Vaccine("62189757", "PREVENAR 20", "Pneumocoque")
MENINGOCOCCAL = Vaccine("69241562", "NIMENRIX", "Méningocoques ACWY")
MMR = Vaccine("64269668", "M-M-RVAXPRO", "ROR (rougeole, oreillons, rubéole)")
DTCAP_CHILD = Vaccine("66543281", "TETRAVAC-ACELLULAIRE", "DTCaP")
DTCAP_BOOSTER = Vaccine("62404793", "BOOSTRIXTETRA", "Rappel dTcaP")
DTCAP_BOOSTER_ALT = Vaccine("67619892", "REPEVAX", "Rappel dTcaP")
HPV = Vaccine("65017887", "GARDASIL 9", "Papillomavirus humains")
FLU = Vaccine("69675854", "VAXIGRIP", "Grippe saisonnière")
FLU_ALT = Vaccine("63156183", "INFLUVAC", "Grippe saisonnière")
SHINGLES = Vaccine("62887096", "SHINGRIX", "Zona")

# The French schedule for infants: (age in months, vaccines, dose).
INFANT_SCHEDULE: tuple[tuple[int, tuple[Vaccine, ...], str], ...] = (
    (2, (HEXAVALENT, PNEUMOCOCCAL), "1re dose"),
    (4, (HEXAVALENT, PNEUMOCOCCAL), "2e dose"),
    (6, (MENINGOCOCCAL,), "1re dose"),
    (11, (HEXAVALENT, PNEUMOCOCCAL), "Rappel"),
    (12, (MMR, MENINGOCOCCAL), "1re dose ROR, rappel méningocoque"),
    (16, (MMR,), "2e dose"),
)
ADULT_BOOSTER_AGES = (25, 45, 65, 75, 85)


@dataclass(frozen=True)
class Lab:
    code: str  # LOINC
    label: str
    unit: str  # UCUM, like the vital signs


HBA1C = Lab("4548-4", "Hémoglobine glyquée (HbA1c)", "%")
LDL = Lab("13457-7", "LDL cholestérol", "g/L")
CREATININE = Lab("14682-9", "Créatinine", "umol/L")


@dataclass(frozen=True)
class Condition:
    """A problem a patient may have: how likely by age and sex, and how it is followed."""

    code: str  # CIM-10, without the dot
    label: str
    short: str  # in consultation reasons
    chances: tuple[tuple[int, float], ...]  # (from this age, chance), ages ascending
    female_factor: float = 1.0
    long_term_condition: bool = False  # ALD: its drugs go to the ALD zone
    sensitivity: str = ""
    past: bool = False  # an episode of the past (antécédent), resolved
    treatments: tuple[tuple[Medicine, ...], ...] = ()  # alternatives; one is chosen
    subjective: tuple[str, ...] = ()
    examination: str = ""
    assessment: str = ""
    labs: tuple[Lab, ...] = ()

    def chance(self, age: float, sex: str) -> float:
        chance = 0.0
        for from_age, value in self.chances:
            if age >= from_age:
                chance = value
        return min(chance * (self.female_factor if sex == "F" else 1.0), 0.9)

    @property
    def min_age(self) -> int:
        return self.chances[0][0]


HYPERTENSION = Condition(
    "I10",
    "Hypertension artérielle essentielle",
    "HTA",
    ((30, 0.04), (45, 0.15), (60, 0.32), (75, 0.5)),
    treatments=((AMLODIPINE,), (RAMIPRIL,), (RAMIPRIL, AMLODIPINE)),
    subjective=("Pas de céphalée, pas de douleur thoracique ni de dyspnée.",),
    assessment="HTA sous traitement",
    labs=(CREATININE,),
)
DIABETES = Condition(
    "E119",
    "Diabète de type 2",
    "diabète de type 2",
    ((35, 0.03), (50, 0.09), (65, 0.16)),
    long_term_condition=True,
    treatments=((METFORMIN,), (METFORMIN, GLICLAZIDE)),
    subjective=("Pas d'hypoglycémie ressentie, suit à peu près son régime.",),
    examination="Examen des pieds : pas de lésion, sensibilité au monofilament conservée.",
    assessment="Diabète de type 2 (ALD)",
    labs=(HBA1C, CREATININE, LDL),
)
HYPERCHOLESTEROLAEMIA = Condition(
    "E780",
    "Hypercholestérolémie essentielle",
    "dyslipidémie",
    ((35, 0.05), (50, 0.15), (65, 0.22)),
    treatments=((ATORVASTATIN,),),
    subjective=("Pas de douleur musculaire sous statine.",),
    assessment="Hypercholestérolémie sous statine",
    labs=(LDL,),
)
ASTHMA = Condition(
    "J459",
    "Asthme",
    "asthme",
    ((3, 0.08), (18, 0.06)),
    treatments=((SALBUTAMOL,), (BECLOMETASONE, SALBUTAMOL)),
    subjective=("Pas de réveil nocturne, Ventoline environ une fois par semaine.",),
    examination="Auscultation : pas de sibilant.",
    assessment="Asthme contrôlé",
)
DEPRESSION = Condition(
    "F329",
    "Épisode dépressif",
    "épisode dépressif",
    ((16, 0.04), (25, 0.06), (65, 0.04)),
    female_factor=1.8,
    sensitivity=MENTAL_HEALTH,
    treatments=((SERTRALINE,),),
)
LOW_BACK_PAIN = Condition(
    "M545",
    "Lombalgie basse",
    "lombalgie",
    ((25, 0.04), (45, 0.08)),
    treatments=((PARACETAMOL_LONG,),),
    subjective=("Lombalgies mécaniques stables, marche 30 minutes par jour.",),
    assessment="Lombalgie chronique stable",
)
REFLUX = Condition(
    "K219",
    "Reflux gastro-œsophagien",
    "RGO",
    ((20, 0.05), (45, 0.1)),
    treatments=((OMEPRAZOLE,),),
    subjective=("Pyrosis rare sous traitement.",),
    assessment="RGO contrôlé par IPP",
)
HYPOTHYROIDISM = Condition(
    "E039",
    "Hypothyroïdie",
    "hypothyroïdie",
    ((20, 0.005), (40, 0.012), (60, 0.018)),
    female_factor=4.0,
    treatments=((LEVOTHYROXINE,),),
    subjective=("Pas de palpitation, poids stable.",),
    assessment="Hypothyroïdie substituée",
)
HAY_FEVER = Condition(
    "J304",
    "Rhinite allergique",
    "rhinite allergique",
    ((6, 0.08), (18, 0.1), (50, 0.05)),
    treatments=((CETIRIZINE,),),
    subjective=("Rhinite printanière bien soulagée par l'antihistaminique.",),
    assessment="Rhinite allergique saisonnière",
)
MIGRAINE = Condition(
    "G439",
    "Migraine",
    "migraine",
    ((12, 0.03), (20, 0.06), (50, 0.03)),
    female_factor=2.5,
    treatments=((IBUPROFEN,),),
    subjective=("Deux à trois crises par mois, soulagées par l'ibuprofène.",),
    assessment="Migraine sans aura, crises peu fréquentes",
)
KNEE_ARTHRITIS = Condition(
    "M179",
    "Gonarthrose",
    "gonarthrose",
    ((55, 0.08), (70, 0.18)),
    treatments=((PARACETAMOL_LONG,),),
    subjective=("Douleurs mécaniques des genoux, périmètre de marche conservé.",),
    examination="Genoux : craquements, pas d'épanchement.",
    assessment="Gonarthrose bilatérale",
)
ATRIAL_FIBRILLATION = Condition(
    "I489",
    "Fibrillation auriculaire",
    "fibrillation auriculaire",
    ((65, 0.04), (80, 0.1)),
    long_term_condition=True,
    treatments=((APIXABAN, BISOPROLOL),),
    subjective=("Pas de palpitation, pas de saignement sous anticoagulant.",),
    examination="Rythme cardiaque irrégulier, bien toléré.",
    assessment="Fibrillation auriculaire permanente anticoagulée (ALD)",
    labs=(CREATININE,),
)
ATOPIC_DERMATITIS = Condition(
    "L20",
    "Dermatite atopique",
    "eczéma",
    ((0, 0.12), (12, 0.03), (18, 0.0)),
    treatments=((HYDROCORTISONE_CREAM,),),
    subjective=("Poussées d'eczéma l'hiver, émollient quotidien.",),
    examination="Plaques d'eczéma des plis des coudes.",
    assessment="Dermatite atopique modérée",
)
URINARY_INFECTION = Condition(
    "N390", "Infection urinaire", "", ((15, 0.05),), female_factor=4.0, past=True
)
APPENDICITIS = Condition("K37", "Appendicite (appendicectomie)", "", ((8, 0.06),), past=True)
PNEUMONIA = Condition("J189", "Pneumopathie", "", ((40, 0.03), (70, 0.08)), past=True)

CONDITIONS = (
    HYPERTENSION,
    DIABETES,
    HYPERCHOLESTEROLAEMIA,
    ASTHMA,
    DEPRESSION,
    LOW_BACK_PAIN,
    REFLUX,
    HYPOTHYROIDISM,
    HAY_FEVER,
    MIGRAINE,
    KNEE_ARTHRITIS,
    ATRIAL_FIBRILLATION,
    ATOPIC_DERMATITIS,
    URINARY_INFECTION,
    APPENDICITIS,
    PNEUMONIA,
)
MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Episode:
    """An acute reason to consult, with the note a GP would write."""

    reason: str
    min_age: float
    max_age: float
    subjective: tuple[str, ...]
    objective: str
    assessment: str
    plan: str
    medicines: tuple[Medicine, ...] = ()
    child_medicines: tuple[Medicine, ...] = ()  # under 12, when they differ
    sexes: str = "FM"
    fever: bool = False  # take the temperature
    respiratory: bool = False  # and the oxygen saturation

    def medicines_for(self, age: float) -> tuple[Medicine, ...]:
        return self.child_medicines if age < 12 and self.child_medicines else self.medicines


EPISODES = (
    Episode(
        "Examen du nourrisson",
        0,
        0.25,
        ("Bonne prise des biberons, sommeil correct, pas de régurgitation gênante.",),
        "Examen clinique normal, fontanelle normotendue, bonne tonicité.",
        "Nourrisson en bonne santé, croissance harmonieuse.",
        "Vitamine D quotidienne. Prochain examen et vaccinations à 2 mois.",
        (
            Medicine(
                "",  # prescribed by name
                "Vitamine D3 (cholécalciférol) 1 000 UI, solution buvable en gouttes",
                "2 gouttes par jour",
                90,
            ),
        ),
    ),
    Episode(
        "Rhume, fièvre",
        0.25,
        120,
        (
            "Rhinorrhée claire et toux sèche depuis 3 jours, fièvre modérée.",
            "Nez bouché, mal de gorge, courbatures depuis 2 jours.",
        ),
        "Tympans normaux, gorge érythémateuse, auscultation pulmonaire libre.",
        "Rhinopharyngite virale.",
        "Lavages de nez au sérum physiologique, paracétamol si fièvre. Pas d'antibiotique."
        " Reconsulter si la fièvre dure plus de 3 jours.",
        (PARACETAMOL,),
        (PARACETAMOL_CHILD,),
        fever=True,
    ),
    Episode(
        "Mal de gorge",
        3,
        45,
        ("Odynophagie intense depuis la veille, fièvre à 39 °C, pas de toux.",),
        "Amygdales érythémato-pultacées, adénopathies sous-angulo-maxillaires. TROD"
        " streptocoque positif.",
        "Angine à streptocoque A.",
        "Antibiothérapie 6 jours, paracétamol. Éviction scolaire ou professionnelle 24 h.",
        (AMOXICILLIN, PARACETAMOL),
        (AMOXICILLIN_CHILD, PARACETAMOL_CHILD),
        fever=True,
    ),
    Episode(
        "Toux",
        18,
        120,
        ("Toux grasse depuis une semaine après un rhume, pas de dyspnée.",),
        "Auscultation : quelques ronchi diffus, pas de foyer.",
        "Bronchite aiguë, probablement virale.",
        "Pas d'antibiotique. Paracétamol si besoin. Reconsulter si fièvre persistante ou"
        " essoufflement.",
        (PARACETAMOL,),
        fever=True,
        respiratory=True,
    ),
    Episode(
        "Diarrhée, vomissements",
        0.5,
        120,
        ("Diarrhée liquide et vomissements depuis la veille, cas similaires dans l'entourage.",),
        "Abdomen souple, indolore, pas de signe de déshydratation.",
        "Gastro-entérite aiguë.",
        "Réhydratation orale, alimentation adaptée. Reconsulter si signes de déshydratation.",
        (SMECTA,),
        (ORAL_REHYDRATION,),
        fever=True,
    ),
    Episode(
        "Brûlures urinaires",
        16,
        75,
        (
            "Brûlures mictionnelles et pollakiurie depuis 24 h, pas de fièvre ni de douleur"
            " lombaire.",
        ),
        "Bandelette urinaire : leucocytes +++, nitrites +. Fosses lombaires indolores.",
        "Cystite aiguë simple.",
        "Fosfomycine en prise unique, boissons abondantes. Reconsulter si fièvre.",
        (FOSFOMYCIN,),
        sexes="F",
    ),
    Episode(
        "Douleur du bas du dos",
        20,
        75,
        ("Lombalgie après un effort de soulèvement, sans irradiation dans les jambes.",),
        "Contracture paravertébrale, Lasègue négatif, examen neurologique normal.",
        "Lombalgie aiguë commune.",
        "Rester actif, antalgiques. Pas d'imagerie. Kinésithérapie si pas d'amélioration.",
        (PARACETAMOL, IBUPROFEN),
    ),
    Episode(
        "Otalgie, fièvre",
        0.5,
        6,
        ("Pleurs nocturnes, se touche l'oreille, fièvre depuis hier.",),
        "Tympan droit bombé, congestif.",
        "Otite moyenne aiguë purulente.",
        "Amoxicilline, paracétamol si fièvre. Contrôle si persistance après 72 h.",
        (AMOXICILLIN_OTITIS, PARACETAMOL_CHILD),
        (AMOXICILLIN_OTITIS, PARACETAMOL_CHILD),
        fever=True,
    ),
    Episode(
        "Entorse de la cheville",
        10,
        60,
        ("Torsion de la cheville au sport hier, a pu marcher ensuite.",),
        "Œdème et douleur du ligament latéral externe, critères d'Ottawa négatifs.",
        "Entorse bénigne de la cheville.",
        "Glace, surélévation, chevillère 2 semaines, reprise progressive.",
        (PARACETAMOL,),
    ),
    Episode(
        "Certificat de sport",
        6,
        60,
        ("Demande de certificat pour la pratique du football en club. Pas de malaise à l'effort.",),
        "Examen cardio-vasculaire normal.",
        "Pas de contre-indication à la pratique du sport.",
        "Certificat de non contre-indication remis.",
    ),
)


@dataclass(frozen=True)
class AllergySpec:
    substance: str
    kind: str
    reaction: str
    severity: str
    chance: float


ALLERGIES = (
    AllergySpec("Pénicilline", "allergy", "Urticaire généralisée", "moderate", 0.06),
    AllergySpec("Aspirine", "intolerance", "Bronchospasme", "severe", 0.025),
    AllergySpec("Pollens de graminées", "allergy", "Rhinite et conjonctivite", "mild", 0.05),
    AllergySpec("Sulfamides", "allergy", "Éruption cutanée", "moderate", 0.015),
    AllergySpec("Codéine", "intolerance", "Nausées et vomissements", "mild", 0.015),
    AllergySpec("Arachide", "allergy", "Œdème de Quincke", "severe", 0.01),
)


# What a history is made of: plain values, compared by the tests for determinism.


@dataclass(frozen=True)
class ProblemPlan:
    code: str
    label: str
    onset: date
    is_history: bool = False
    long_term_condition: bool = False
    resolved_on: date | None = None
    sensitivity: str = ""


@dataclass(frozen=True)
class AllergyPlan:
    substance: str
    kind: str
    reaction: str
    severity: str


@dataclass(frozen=True)
class ImmunizationPlan:
    vaccinated_on: date
    vaccine: Vaccine
    dose: str
    lot_number: str


@dataclass(frozen=True)
class ItemPlan:
    medicine: Medicine
    long_term_condition: bool = False


@dataclass(frozen=True)
class ConsultationPlan:
    occurred_at: datetime
    reason: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    kind: str = Encounter.Kind.OFFICE.value
    vitals: tuple[tuple[str, Decimal], ...] = ()
    items: tuple[ItemPlan, ...] = ()
    renewals: int = 0
    sensitivity: str = ""
    documentation_seconds: int = 0


@dataclass(frozen=True)
class LabResultPlan:
    lab: Lab
    effective_at: datetime
    value: Decimal
    reviewed: bool = True


@dataclass(frozen=True)
class History:
    problems: tuple[ProblemPlan, ...] = ()
    allergies: tuple[AllergyPlan, ...] = ()
    consultations: tuple[ConsultationPlan, ...] = ()
    immunizations: tuple[ImmunizationPlan, ...] = ()
    labs: tuple[LabResultPlan, ...] = ()

    @property
    def entry_count(self) -> int:
        """Entries the history writes (vital signs are entries too; drug lines are not)."""
        consultations = sum(1 + len(c.vitals) + (1 if c.items else 0) for c in self.consultations)
        return (
            len(self.problems)
            + len(self.allergies)
            + consultations
            + len(self.immunizations)
            + len(self.labs)
        )


# Planning -------------------------------------------------------------------------------

# Median height (cm) and weight (kg) by age, girls and boys alike until 13, from the
# French growth charts, rounded: enough for plausible vital signs.
GROWTH = (
    (0.0, 50, 3.3),
    (0.25, 61, 6.0),
    (0.5, 67, 7.8),
    (1.0, 75, 9.6),
    (1.5, 82, 11.0),
    (2.0, 87, 12.2),
    (3.0, 95, 14.3),
    (4.0, 102, 16.3),
    (6.0, 115, 20.5),
    (8.0, 127, 25.5),
    (10.0, 138, 32.0),
    (12.0, 150, 40.0),
    (14.0, 161, 50.0),
    (16.0, 167, 57.0),
    (18.0, 170, 62.0),
)


def age_on(birth: date, day: date) -> float:
    return (day - birth).days / 365.25


def _interpolate(age: float, column: int) -> float:
    for (age_a, *values_a), (age_b, *values_b) in pairwise(GROWTH):
        if age_a <= age <= age_b:
            share = (age - age_a) / (age_b - age_a)
            return values_a[column] + share * (values_b[column] - values_a[column])
    return GROWTH[-1][column + 1]


def growth_median(age: float) -> tuple[float, float]:
    """Median height (cm) and weight (kg) at this age (those of 18 after 18)."""
    return _interpolate(age, 0), _interpolate(age, 1)


def _decimal(value: float, places: int = 1) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def _fr(value: Decimal) -> str:
    """A number as written in French (decimal comma)."""
    return str(value).replace(".", ",")


@dataclass
class _Patient:
    """What planning needs to know about one patient, and its random source."""

    rng: random.Random
    sex: str
    birth: date
    today: date
    adult_height: float = 0.0
    bmi: float = 0.0
    growth_factor: float = 1.0
    allergies: set[str] = field(default_factory=set)
    hypertension: bool = False

    def age(self, day: date | None = None) -> float:
        return age_on(self.birth, day or self.today)

    def height(self, day: date) -> float:
        age = self.age(day)
        if age >= 18:
            return self.adult_height
        child = _interpolate(age, 0) * self.growth_factor
        return min(child, self.adult_height) if age > 12 else child

    def weight(self, day: date) -> float:
        age = self.age(day)
        if age >= 18:
            # A little weight is gained with the years, as in real records.
            return self.bmi * (self.adult_height / 100) ** 2 * (1 + 0.002 * (age - 40))
        return _interpolate(age, 1) * self.growth_factor**2

    def safe(self, medicine: Medicine) -> Medicine:
        """The drug, or its replacement when the patient is allergic to it."""
        if medicine.avoid_with in self.allergies and medicine.instead is not None:
            return medicine.instead
        return medicine


def _random_day(rng: random.Random, start: date, end: date) -> date:
    """A day from start to end; end if the range is empty (e.g. a condition that began
    around the age it becomes likely, in a patient who just reached that age)."""
    if end <= start:
        return end
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _at(day: date, rng: random.Random, first_hour: int = 8, last_hour: int = 19) -> datetime:
    """A consultation time on that day, on the quarter hour, in the practice's time zone."""
    moment = time(rng.randrange(first_hour, last_hour), rng.choice((0, 15, 30, 45)))
    return datetime.combine(day, moment, tzinfo=timezone.get_default_timezone())


def _lot_number(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    first, second, last = (rng.choice(letters) for _ in range(3))
    return f"{first}{second}{rng.randrange(1000, 9999)}{last}"


def plan_history(*, sex: str, birth_date: date, key: str, today: date, seed: int = 42) -> History:
    """A plausible history for one patient. Same arguments, same history: the random
    source is seeded with ``key`` (the NIR for demo patients)."""
    rng = random.Random(f"carnet-history:{seed}:{key}")  # noqa: S311 - demo data
    patient = _Patient(rng=rng, sex=sex, birth=birth_date, today=today)
    patient.adult_height = rng.gauss(164 if sex == "F" else 177, 6.5)
    patient.bmi = max(18.5, rng.gauss(25.5, 4))
    patient.growth_factor = rng.uniform(0.94, 1.06)

    allergies = _plan_allergies(patient)
    patient.allergies = {allergy.substance for allergy in allergies}
    conditions = _choose_conditions(patient)
    patient.hypertension = HYPERTENSION in conditions
    problems = [_plan_problem(patient, condition) for condition in conditions]

    start = max(birth_date + timedelta(days=3), today - timedelta(days=365 * HISTORY_YEARS))
    immunizations, visits = _plan_immunizations(patient, conditions, start)
    consultations = list(visits)
    depression = next((p for p in problems if p.code == DEPRESSION.code), None)
    if depression is not None:
        consultations += _plan_depression(patient, depression)
    count = max(2, _consultation_count(patient, conditions))
    followed = [c for c in conditions if c.treatments and not c.sensitivity and not c.past]
    treatment = _choose_treatment(patient, followed)
    taken = {consultation.occurred_at.date() for consultation in consultations}
    # Bounded, for a newborn whose few days since birth cannot hold them all.
    for _attempt in range(20 * MAX_CONSULTATIONS):
        if len(consultations) >= min(count, MAX_CONSULTATIONS):
            break
        day = _random_day(rng, start, today - timedelta(days=1))
        if day in taken or day.weekday() == 6:  # one a day, and not on Sundays
            continue
        taken.add(day)
        if followed and rng.random() < 0.6:
            consultations.append(_plan_follow_up(patient, day, followed, treatment))
        else:
            consultations.append(_plan_episode(patient, day))
    consultations.sort(key=lambda consultation: consultation.occurred_at)
    return History(
        problems=tuple(problems),
        allergies=tuple(allergies),
        consultations=tuple(consultations[:MAX_CONSULTATIONS]),
        immunizations=tuple(sorted(immunizations, key=lambda i: i.vaccinated_on)),
        labs=tuple(_plan_labs(patient, conditions, start)),
    )


def _plan_allergies(patient: _Patient) -> list[AllergyPlan]:
    return [
        AllergyPlan(spec.substance, spec.kind, spec.reaction, spec.severity)
        for spec in ALLERGIES
        if patient.rng.random() < spec.chance
    ]


def _choose_conditions(patient: _Patient) -> list[Condition]:
    age = patient.age()
    chosen = [c for c in CONDITIONS if patient.rng.random() < c.chance(age, patient.sex)]
    return chosen[:MAX_PROBLEMS]


def _plan_problem(patient: _Patient, condition: Condition) -> ProblemPlan:
    rng, today = patient.rng, patient.today
    earliest = max(
        patient.birth + timedelta(days=int(condition.min_age * 365.25) + 30),
        today - timedelta(days=25 * 365),
    )
    if condition.past:
        onset = _random_day(rng, earliest, today - timedelta(days=365))
        return ProblemPlan(
            condition.code,
            condition.label,
            onset,
            is_history=True,
            resolved_on=onset + timedelta(days=rng.randrange(7, 21)),
        )
    if condition is DEPRESSION:
        # A recent episode, so that its consultations are in the history.
        onset = _random_day(
            rng, max(earliest, today - timedelta(days=3 * 365)), today - timedelta(days=60)
        )
        resolved = onset + timedelta(days=rng.randrange(240, 400))
        return ProblemPlan(
            condition.code,
            condition.label,
            onset,
            resolved_on=resolved if resolved < today else None,
            sensitivity=condition.sensitivity,
        )
    return ProblemPlan(
        condition.code,
        condition.label,
        _random_day(rng, earliest, today - timedelta(days=120)),
        long_term_condition=condition.long_term_condition,
    )


def _consultation_count(patient: _Patient, conditions: list[Condition]) -> int:
    """Young healthy adults consult little; chronic conditions and old age bring more
    (infant visits and a depressive episode add theirs, up to MAX_CONSULTATIONS)."""
    age = patient.age()
    high = 3 if 6 <= age < 40 else 4
    high += 2 if any(not c.past for c in conditions) else 0
    high += 2 if age >= 70 else 0
    return patient.rng.randint(2, min(high, MAX_CONSULTATIONS))


def _choose_treatment(patient: _Patient, followed: list[Condition]) -> list[ItemPlan]:
    items: list[ItemPlan] = []
    seen: set[str] = set()
    for condition in followed:
        for medicine in patient.rng.choice(condition.treatments):
            medicine = patient.safe(medicine)
            if medicine.label not in seen:
                seen.add(medicine.label)
                items.append(ItemPlan(medicine, condition.long_term_condition))
    return items


def _vitals(
    patient: _Patient,
    day: date,
    *,
    height: bool = False,
    pressure: bool = True,
    pulse: bool = False,
    fever: bool = False,
    respiratory: bool = False,
) -> tuple[tuple[str, Decimal], ...]:
    """The vital signs a GP would note for this visit: weight always, the rest when the
    visit calls for it (each one is an entry: a demo of 200 patients stays quick)."""
    rng, age = patient.rng, patient.age(day)
    vitals: list[tuple[str, Decimal]] = [("weight", _decimal(patient.weight(day)))]
    if height:
        vitals.append(("height", _decimal(patient.height(day), 0)))
    if pressure and age >= 16:
        systolic = 112 + 0.45 * max(age - 20, 0) + (12 if patient.hypertension else 0)
        systolic += rng.gauss(0, 8)
        diastolic = 68 + 0.15 * max(age - 20, 0) + rng.gauss(0, 6)
        vitals.append(("systolic", _decimal(systolic, 0)))
        vitals.append(("diastolic", _decimal(min(diastolic, systolic - 30), 0)))
    if pulse or fever:
        vitals.append(("heart_rate", _decimal(rng.gauss(72 if age >= 12 else 95, 8), 0)))
    if fever:
        vitals.append(("temperature", _decimal(rng.uniform(37.2, 39.4))))
    if respiratory:
        vitals.append(("spo2", _decimal(rng.uniform(95, 99), 0)))
    return tuple(vitals)


def _describe_vitals(vitals: tuple[tuple[str, Decimal], ...]) -> str:
    values = dict(vitals)
    parts = []
    if "weight" in values:
        parts.append(f"Poids {_fr(values['weight'])} kg")
    if "height" in values:
        parts.append(f"taille {values['height']} cm")
    if "systolic" in values:
        parts.append(f"TA {values['systolic']}/{values['diastolic']} mmHg")
    if "heart_rate" in values:
        parts.append(f"FC {values['heart_rate']}/min")
    if "temperature" in values:
        parts.append(f"T° {_fr(values['temperature'])} °C")
    if "spo2" in values:
        parts.append(f"SpO2 {values['spo2']} %")
    return ", ".join(parts) + "."


def _kind(patient: _Patient, *, renewal: bool = False) -> str:
    roll = patient.rng.random()
    if patient.age() >= 80 and roll < 0.3:
        return Encounter.Kind.HOME.value
    if renewal and roll > 0.92:
        return Encounter.Kind.VIDEO.value
    return Encounter.Kind.OFFICE.value


def _plan_follow_up(
    patient: _Patient, day: date, followed: list[Condition], treatment: list[ItemPlan]
) -> ConsultationPlan:
    rng = patient.rng
    kind = _kind(patient, renewal=True)
    in_person = kind != Encounter.Kind.VIDEO
    pulse = ATRIAL_FIBRILLATION in followed
    vitals = _vitals(patient, day, height=rng.random() < 0.1, pulse=pulse) if in_person else ()
    subjective = [
        rng.choice(
            (
                "Va bien, pas de plainte particulière.",
                "Bonne observance, pas d'effet indésirable.",
                "Un peu fatigué ces dernières semaines, sommeil correct.",
                "Quelques oublis du traitement le week-end.",
            )
        )
    ]
    subjective += [
        rng.choice(condition.subjective) for condition in followed if condition.subjective
    ]
    examination = " ".join(c.examination for c in followed if c.examination)
    objective = f"{_describe_vitals(vitals)} {examination}".strip() if in_person else ""
    assessment = "; ".join(c.assessment for c in followed if c.assessment) + "."
    values = dict(vitals)
    plan = ["Renouvellement du traitement pour 3 mois."]
    if values.get("systolic", Decimal(0)) >= 140:
        assessment += " Chiffres tensionnels élevés ce jour."
        plan.append(
            "Automesure tensionnelle à domicile (règle des 3) avant le prochain rendez-vous."
        )
    labs = sorted({lab.label for condition in followed for lab in condition.labs})
    if labs:
        plan.append(f"Bilan biologique : {', '.join(labs)}.")
    plan.append("Revoir dans 3 mois.")
    shorts = [c.short for c in followed]
    reason = "Suivi " + (" et ".join(shorts) if len(shorts) < 3 else ", ".join(shorts))
    return ConsultationPlan(
        occurred_at=_at(day, rng),
        reason=f"{reason}, renouvellement d'ordonnance",
        subjective=" ".join(subjective),
        objective=objective,
        assessment=assessment,
        plan=" ".join(plan),
        kind=kind,
        vitals=vitals,
        items=tuple(treatment),
        renewals=2 if treatment else 0,
        documentation_seconds=rng.randrange(120, 480),
    )


def _plan_episode(patient: _Patient, day: date) -> ConsultationPlan:
    rng, age = patient.rng, patient.age(day)
    suitable = [
        episode
        for episode in EPISODES
        if episode.min_age <= age <= episode.max_age and patient.sex in episode.sexes
    ]
    episode = rng.choice(suitable or EPISODES[:1])
    vitals = _vitals(
        patient,
        day,
        height=age < 18 and rng.random() < 0.3,
        pressure=rng.random() < 0.5,
        fever=episode.fever,
        respiratory=episode.respiratory,
    )
    # dict.fromkeys: an NSAID replaced by paracetamol must not give paracetamol twice.
    medicines = dict.fromkeys(patient.safe(m) for m in episode.medicines_for(age))
    items = tuple(ItemPlan(medicine) for medicine in medicines)
    return ConsultationPlan(
        occurred_at=_at(day, rng),
        reason=episode.reason,
        subjective=rng.choice(episode.subjective),
        objective=f"{_describe_vitals(vitals)} {episode.objective}",
        assessment=episode.assessment,
        plan=episode.plan,
        kind=_kind(patient),
        vitals=vitals,
        items=items,
        documentation_seconds=rng.randrange(90, 360),
    )


def _plan_depression(patient: _Patient, problem: ProblemPlan) -> list[ConsultationPlan]:
    """The first consultation and the follow-up of a depressive episode: sensitive, like
    the problem, and so are the vital signs and the prescriptions."""
    rng = patient.rng
    first_day = problem.onset
    second_day = first_day + timedelta(days=rng.randrange(28, 42))
    first_vitals = _vitals(patient, first_day)
    first = ConsultationPlan(
        occurred_at=_at(first_day, rng),
        reason="Humeur triste, troubles du sommeil",
        subjective="Tristesse depuis plus de deux semaines, perte d'intérêt, réveils précoces."
        " Difficultés au travail. Pas d'idée suicidaire.",
        objective=f"{_describe_vitals(first_vitals)} Ralentissement psychomoteur discret."
        f" PHQ-9 : {rng.randrange(12, 19)}.",
        assessment="Épisode dépressif d'intensité modérée.",
        plan="Sertraline 50 mg. Psychothérapie proposée (dispositif Mon soutien psy)."
        " Revoir dans 4 semaines.",
        vitals=first_vitals,
        items=(ItemPlan(SERTRALINE),),
        sensitivity=MENTAL_HEALTH,
        documentation_seconds=rng.randrange(400, 900),
    )
    consultations = [first]
    if second_day < patient.today:
        consultations.append(
            ConsultationPlan(
                occurred_at=_at(second_day, rng),
                reason="Suivi de l'épisode dépressif",
                subjective="Amélioration partielle de l'humeur et du sommeil. Bonne"
                " tolérance du traitement.",
                objective=f"PHQ-9 : {rng.randrange(5, 11)}.",
                assessment="Épisode dépressif en amélioration.",
                plan="Poursuite de la sertraline au moins 6 mois après la rémission.",
                items=(ItemPlan(SERTRALINE),),
                renewals=5,
                sensitivity=MENTAL_HEALTH,
                documentation_seconds=rng.randrange(240, 600),
            )
        )
    return consultations


def _plan_immunizations(
    patient: _Patient, conditions: list[Condition], start: date
) -> tuple[list[ImmunizationPlan], list[ConsultationPlan]]:
    """Vaccinations given during the history, and the infant visits they were given at."""
    rng, today = patient.rng, patient.today
    given: list[ImmunizationPlan] = []
    visits: list[ConsultationPlan] = []

    def give(day: date, vaccine: Vaccine, dose: str) -> None:
        given.append(ImmunizationPlan(day, vaccine, dose, _lot_number(rng)))

    for months, vaccines, dose in INFANT_SCHEDULE:
        day = patient.birth + timedelta(days=int(months * 30.44) + rng.randrange(0, 10))
        if start <= day < today and day.weekday() != 6:
            for vaccine in vaccines:
                give(day, vaccine, dose)
            vitals = _vitals(patient, day, height=True)
            names = ", ".join(vaccine.disease for vaccine in vaccines)
            visits.append(
                ConsultationPlan(
                    occurred_at=_at(day, rng),
                    reason=f"Suivi du nourrisson, vaccinations ({months} mois)",
                    subjective="Bon développement, alimentation sans difficulté.",
                    objective=f"{_describe_vitals(vitals)} Examen clinique normal.",
                    assessment="Nourrisson en bonne santé.",
                    plan=f"Vaccination : {names}. Prochain rendez-vous selon le calendrier.",
                    vitals=vitals,
                    documentation_seconds=rng.randrange(180, 420),
                )
            )
    for years, vaccine, dose in ((6, DTCAP_CHILD, "Rappel 6 ans"), (11, HPV, "1re dose")):
        day = patient.birth + timedelta(days=int(years * 365.25) + rng.randrange(0, 120))
        if start <= day < today:
            give(day, vaccine, dose)
    for years in ADULT_BOOSTER_AGES:
        day = patient.birth + timedelta(days=int(years * 365.25) + rng.randrange(0, 200))
        if start <= day < today and rng.random() < 0.7:
            give(day, rng.choice((DTCAP_BOOSTER, DTCAP_BOOSTER_ALT)), f"Rappel {years} ans")
    at_risk = patient.age() >= 65 or any(c in conditions for c in (DIABETES, ASTHMA))
    if at_risk:
        for year in range(start.year, today.year + 1):
            day = date(year, 10, 15) + timedelta(days=rng.randrange(0, 60))
            if start <= day < today and rng.random() < 0.7:
                give(day, rng.choice((FLU, FLU_ALT)), "Campagne de vaccination antigrippale")
    if patient.age() >= 66 and rng.random() < 0.3:
        day = _random_day(rng, start, today - timedelta(days=90))
        give(day, SHINGLES, "1re dose")
        give(day + timedelta(days=rng.randrange(60, 90)), SHINGLES, "2e dose")
    if patient.age() >= 66 and rng.random() < 0.4:
        give(_random_day(rng, start, today - timedelta(days=1)), PNEUMOCOCCAL, "Dose unique")
    return given, visits


def _plan_labs(patient: _Patient, conditions: list[Condition], start: date) -> list[LabResultPlan]:
    """Lab results: the follow-up of chronic conditions, or a check-up after 40."""
    rng, today = patient.rng, patient.today
    every: dict[Lab, int] = {}
    for condition in conditions:
        for lab in condition.labs:
            every[lab] = 182 if lab is HBA1C else 365
    if not every and patient.age() >= 40 and rng.random() < 0.3:
        every = {LDL: 10_000, CREATININE: 10_000}  # one check-up
    results: list[LabResultPlan] = []
    for lab, days in every.items():
        day = _random_day(rng, start, start + timedelta(days=min(days, 365)))
        while day < today and len([r for r in results if r.lab is lab]) < 3:
            results.append(
                LabResultPlan(
                    lab,
                    datetime.combine(day, time(11), tzinfo=timezone.get_default_timezone()),
                    _lab_value(patient, lab, conditions),
                    # Results of the last month are waiting for the GP to read them.
                    reviewed=(today - day).days > 30,
                )
            )
            day += timedelta(days=days + rng.randrange(-20, 21))
    return sorted(results, key=lambda result: (result.effective_at, result.lab.code))


def _lab_value(patient: _Patient, lab: Lab, conditions: list[Condition]) -> Decimal:
    rng = patient.rng
    if lab is HBA1C:
        return _decimal(rng.uniform(6.1, 8.6))
    if lab is LDL:
        treated = HYPERCHOLESTEROLAEMIA in conditions or DIABETES in conditions
        low, high = (0.8, 1.4) if treated else (0.9, 1.8)
        return _decimal(rng.uniform(low, high), 2)
    base = 62 if patient.sex == "F" else 80
    return _decimal(base + 0.4 * max(patient.age() - 50, 0) + rng.gauss(0, 10), 0)


# Writing --------------------------------------------------------------------------------


def demo_drugs() -> frozenset[str]:
    """The CIS codes of the catalogue found in the drug table (empty if not loaded)."""
    codes = {m.cis for m in catalogue_medicines() if m.cis} | {v.cis for v in catalogue_vaccines()}
    return frozenset(Drug.objects.filter(cis__in=codes).values_list("cis", flat=True))


def catalogue_medicines() -> list[Medicine]:
    found = [m for c in CONDITIONS for option in c.treatments for m in option]
    found += [m for e in EPISODES for m in (*e.medicines, *e.child_medicines)]
    found += [m.instead for m in found if m.instead is not None]
    return found


def catalogue_vaccines() -> list[Vaccine]:
    infant = [vaccine for _months, vaccines, _dose in INFANT_SCHEDULE for vaccine in vaccines]
    return [*infant, DTCAP_CHILD, DTCAP_BOOSTER, DTCAP_BOOSTER_ALT, HPV, FLU, FLU_ALT, SHINGLES]


def _item_input(item: ItemPlan, known_drugs: Collection[str]) -> records.ItemInput:
    medicine = item.medicine
    found = medicine.cis in known_drugs
    return records.ItemInput(
        posology=medicine.posology,
        duration_days=medicine.duration_days,
        drug_cis=medicine.cis if found else "",
        drug_label="" if found else medicine.label,
        long_term_condition=item.long_term_condition,
    )


def demo_history_write(
    *, actor: Actor, patient: Patient, history: History, known_drugs: Collection[str]
) -> None:
    """Write a planned history through the records services (policy checked, audited)."""
    access = access_for(patient)
    for problem in history.problems:
        records.entry_create(
            actor=actor,
            access=access,
            model=Problem,
            # A node whose CIM-10 list is not loaded yet stores the problem without code.
            code=cim10_code(problem.code) or "",
            label=problem.label,
            onset=problem.onset,
            is_history=problem.is_history,
            long_term_condition=problem.long_term_condition,
            clinical_status=(
                Problem.ClinicalStatus.RESOLVED
                if problem.resolved_on
                else Problem.ClinicalStatus.ACTIVE
            ),
            resolved_on=problem.resolved_on,
            sensitivity=problem.sensitivity,
        )
    for allergy in history.allergies:
        records.entry_create(
            actor=actor,
            access=access,
            model=Allergy,
            substance=allergy.substance,
            kind=allergy.kind,
            reaction=allergy.reaction,
            severity=allergy.severity,
        )
    for immunization in history.immunizations:
        records.entry_create(
            actor=actor,
            access=access,
            model=Immunization,
            vaccinated_on=immunization.vaccinated_on,
            vaccine=immunization.vaccine.label,
            drug_id=immunization.vaccine.cis if immunization.vaccine.cis in known_drugs else None,
            lot_number=immunization.lot_number,
            dose=immunization.dose,
        )
    for consultation in history.consultations:
        _write_consultation(actor, access, consultation, known_drugs)
    for result in history.labs:
        records.entry_create(
            actor=actor,
            access=access,
            model=Observation,
            effective_at=result.effective_at,
            code=result.lab.code,
            label=result.lab.label,
            value=result.value,
            unit=result.lab.unit,
            reviewed=result.reviewed,
        )


def _write_consultation(
    actor: Actor,
    access: PatientAccess,
    consultation: ConsultationPlan,
    known_drugs: Collection[str],
) -> None:
    encounter = records.consultation_record(
        actor=actor,
        access=access,
        reason=consultation.reason,
        vitals=dict(consultation.vitals),
        documentation_seconds=consultation.documentation_seconds,
        occurred_at=consultation.occurred_at,
        kind=consultation.kind,
        subjective=consultation.subjective,
        objective=consultation.objective,
        assessment=consultation.assessment,
        plan=consultation.plan,
        sensitivity=consultation.sensitivity,
    )
    if not consultation.items:
        return
    prescription = records.prescription_create(
        actor=actor,
        access=access,
        items=[_item_input(item, known_drugs) for item in consultation.items],
        renewals=consultation.renewals,
        encounter=encounter,
        sensitivity=consultation.sensitivity,
        historical=True,
    )
    # prescription_create dates a prescription today, as a GP writes it; a demo history
    # is written after the fact, so the prescription takes its consultation's date
    # (otherwise every antibiotic of the last years would look like a current treatment).
    Prescription.objects.filter(pk=prescription.pk).update(
        prescribed_on=timezone.localdate(consultation.occurred_at)
    )


def demo_histories_create(
    *,
    actors: dict[int, Actor],
    nirs: Collection[str],
    today: date | None = None,
    seed: int = 42,
) -> int:
    """Give a history to the demo patients (by NIR) who have no consultation yet, written
    by their GP (``actors``: the GPs' actors, by person id). Returns how many got one.

    Patients who already have a consultation are left alone: a re-run of the demo does
    not add a second history, and a patient someone has started to use is not touched.
    Runs in the practice context of the actors (row-level security).
    """
    today = today or timezone.localdate()
    known_drugs = demo_drugs()
    patients = (
        Patient.objects.filter(nir__in=list(nirs), gp_id__in=list(actors))
        .exclude(Exists(Encounter.objects.filter(patient=OuterRef("pk"))))
        .order_by("pk")
    )
    written = 0
    for patient in patients:
        history = plan_history(
            sex=patient.sex, birth_date=patient.birth_date, key=patient.nir, today=today, seed=seed
        )
        # One audit append per patient rather than one per event: the events are the
        # same, the audit chain head is locked once instead of some forty times.
        with audit.buffered() as events:
            demo_history_write(
                actor=actors[patient.gp_id],  # type: ignore[index]
                patient=patient,
                history=history,
                known_drugs=known_drugs,
            )
        audit.append(events)
        written += 1
    return written


# --- Safe prescribing -------------------------------------------------------------------

SAFETY_PATIENT = {
    "birth_name": "Vernet",
    "given_names": "Odile",
    "sex": "F",
    "birth_date": date(1948, 4, 12),
    "birth_place": "Lyon 3e",
    "address": "8 rue Paul Bert",
    "postal_code": "69003",
    "city": "Lyon",
    "phone": "04 78 60 12 34",
}
WARFARIN_CIS = "64631925"  # COUMADINE 2 mg, comprimé sécable


def demo_safety_patient_create(*, actor: Actor, gp_id: int) -> Patient | None:
    """Odile Vernet, for trying the safety checks: allergic to the penicillins (the ATC
    class J01C, picked from the reference) and on warfarin, which the ANSM thesaurus says
    interacts with ibuprofen (association déconseillée), paracetamol (précaution
    d'emploi) and miconazole (contre-indication). Nothing is done if she exists, or if the
    reference data (ATC classes, compositions) is not loaded."""
    from records.models import AtcClass, Drug

    born = SAFETY_PATIENT["birth_date"]
    assert isinstance(born, date)
    number = nir.make("2", born, "69383", 812)
    if Patient.objects.filter(nir=number).exists():
        return None
    if not (
        AtcClass.objects.filter(pk="J01C").exists()
        and Drug.objects.filter(pk=WARFARIN_CIS).exists()
    ):
        return None
    patient = records.patient_create(
        actor=actor,
        nir=number,
        gp_id=gp_id,
        confirm_not_duplicate=True,
        **SAFETY_PATIENT,  # type: ignore[arg-type]
    )
    access = access_for(patient)
    records.entry_create(
        actor=actor,
        access=access,
        model=Allergy,
        substance="Pénicillines (J01C)",
        atc_class="J01C",
        kind=Allergy.Kind.ALLERGY,
        reaction="urticaire généralisée",
        severity=Allergy.Severity.SEVERE,
    )
    records.prescription_create(
        actor=actor,
        access=access,
        items=[
            records.ItemInput(
                drug_cis=WARFARIN_CIS,
                dose_quantity=Decimal(1),
                dose_unit="comprimé",
                frequency=1,
                posology="le soir, selon l'INR",
                duration_days=90,
                long_term_condition=True,
            )
        ],
        renewals=2,
    )
    return patient
