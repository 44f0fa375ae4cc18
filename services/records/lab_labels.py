"""Which laboratory results are sensitive by nature: an HIV or STI test, a pregnancy test.
Filed with the matching sensitivity label, so that they are hidden by default from
everyone but the practitioner they are for and those the patient allows (§5); the
practitioner may change the label afterwards like any entry's.

By LOINC code when the laboratory sends one, else by words of the analysis's name as
French laboratories write it (accents and case aside).
"""

from __future__ import annotations

import unicodedata

from core.access.models import SensitivityLabel

HIV_STI = SensitivityLabel.HIV_STI.value
REPRODUCTIVE = SensitivityLabel.SEXUAL_REPRODUCTIVE.value

LOINC = {
    # HIV
    "56888-1": HIV_STI,  # HIV 1+2 Ab + HIV1 p24 Ag
    "75622-1": HIV_STI,  # HIV 1+2 Ab + HIV1 p24 Ag, immunoassay
    "7917-8": HIV_STI,  # HIV 1 Ab
    "5221-7": HIV_STI,  # HIV 1 Ab, immunoblot
    "20447-9": HIV_STI,  # HIV 1 RNA (viral load)
    # syphilis, chlamydia, gonorrhoea
    "20507-0": HIV_STI,  # Reagin Ab (RPR)
    "5292-8": HIV_STI,  # Reagin Ab (VDRL)
    "24312-1": HIV_STI,  # Treponema pallidum Ab
    "43304-5": HIV_STI,  # Chlamydia trachomatis rRNA
    "43305-2": HIV_STI,  # Neisseria gonorrhoeae rRNA
    # pregnancy
    "21198-7": REPRODUCTIVE,  # hCG beta, serum, quantitative
    "2106-3": REPRODUCTIVE,  # hCG, urine, qualitative
    "2118-8": REPRODUCTIVE,  # hCG, serum, qualitative
}

WORDS = (
    ("vih", HIV_STI),
    ("hiv", HIV_STI),
    ("syphil", HIV_STI),
    ("tpha", HIV_STI),
    ("vdrl", HIV_STI),
    ("treponem", HIV_STI),
    ("chlamydia", HIV_STI),
    ("gonocoque", HIV_STI),
    ("gonorrh", HIV_STI),
    ("hcg", REPRODUCTIVE),
    ("gonadotrophine chorionique", REPRODUCTIVE),
    ("grossesse", REPRODUCTIVE),
)


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def label_for(code: str, code_system: str, label: str) -> str:
    """The sensitivity label a result is filed with, or ""."""
    if code_system == "LN" and code in LOINC:
        return LOINC[code]
    name = _folded(f" {label} ")
    for word, sensitivity in WORDS:
        if word in name:
            return sensitivity
    return ""
