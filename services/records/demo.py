"""Demo patients: about 200 realistic French identities with valid NIRs.

Deterministic (seeded) so that a re-run produces the same people.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from records import nir

FAMILY_NAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Lopez", "Jean", "Dupuy", "Guillot",
    "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin", "Louis", "Deschamps",
    "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet", "Adam",
    "Paris", "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier",
    "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez",
    "Le Gall", "Collet", "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel",
    "Le Roux", "Cousin", "Germain", "Breton", "Besson", "Langlois", "Rémy", "Le Goff",
    "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal", "Weber",
    "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez", "Guichard",
    "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin",
    "Da Silva", "Bouchet", "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud",
    "Antoine", "Hoarau", "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert",
    "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte",
]
FEMALE_NAMES = [
    "Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle", "Sylvie",
    "Anne", "Christine", "Martine", "Valérie", "Sandrine", "Sophie", "Céline", "Hélène",
    "Aurélie", "Julie", "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Louise", "Jade",
    "Zoé", "Élodie", "Mathilde", "Océane", "Agnès", "Brigitte", "Geneviève", "Odette",
    "Yvette", "Josiane", "Maëlle", "Anaïs", "Clémence", "Noémie",
]
MALE_NAMES = [
    "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Bernard", "Jacques", "Daniel",
    "Patrick", "Nicolas", "Christophe", "Stéphane", "Laurent", "Frédéric", "Julien", "Thomas",
    "Nicolas", "Maxime", "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Raphaël",
    "Léo", "Théo", "Noé", "Étienne", "François", "Gérard", "René", "Marcel", "Yves",
    "Hervé", "Benoît", "Mathis", "Enzo", "Loïc",
]
# (department+commune INSEE code, city, postal code) — towns near a fictional practice
# in the Rhône, plus a few births elsewhere and abroad (99 + country code).
BIRTH_PLACES = [
    ("69123", "Lyon"), ("69266", "Villeurbanne"), ("38185", "Grenoble"), ("42218", "Saint-Étienne"),
    ("75056", "Paris"), ("13055", "Marseille"), ("31555", "Toulouse"), ("59350", "Lille"),
    ("2A004", "Ajaccio"), ("2B033", "Bastia"), ("67482", "Strasbourg"), ("99350", "Maroc"),
    ("99134", "Espagne"), ("99139", "Portugal"), ("97411", "Saint-Denis (La Réunion)"),
]
HOME_TOWNS = [
    ("69100", "Villeurbanne"), ("69003", "Lyon"), ("69008", "Lyon"), ("69500", "Bron"),
    ("69120", "Vaulx-en-Velin"), ("69200", "Vénissieux"),
]
STREETS = [
    "rue de la République", "avenue Jean Jaurès", "rue Paul Verlaine", "cours Émile Zola",
    "rue Anatole France", "place Lazare Goujon", "rue Francis de Pressensé", "avenue Roger Salengro",
    "rue du 4 Août 1789", "boulevard Laurent Bonnevay", "rue des Tilleuls", "chemin des Églantines",
]


def demo_identities(count: int = 200, seed: int = 42) -> list[dict[str, object]]:
    rng = random.Random(seed)
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
