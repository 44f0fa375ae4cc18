"""The demo's laboratory results: files received as a laboratory sends them (HPRIM
Santé, one HL7 v2.5 ORU^R01), for the GP to find waiting on their list — a glucose
rising over three reports (its trend plotted), a potassium too high, a normal blood
count —, one waiting for the desk to choose its patient (a typo in the name) and one
refused (cut short).

Everything goes through the services, as a laboratory's file would: nothing is written
behind the policy's back. A re-run adds nothing: the practice's files are made once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from hl7apy.core import Message

from core.access.policy import Actor
from lab import services
from lab.models import LabFile

LAB = "LBM des Tilleuls"


def hprim(identity: dict[str, Any], exam: date, lines: list[str], family: str = "") -> bytes:
    """An HPRIM Santé message as a French laboratory writes it (ISO-8859-1)."""
    birth = identity["birth_date"]
    nir = str(identity.get("nir", ""))
    header = [
        f"{exam:%y%m%d}{nir[-4:]}",
        family or str(identity["birth_name"]).upper(),
        str(identity["given_names"]).upper(),
        "",
        "",
        "69100 VILLEURBANNE",
        birth.strftime("%d/%m/%Y"),
        f"{nir[:13]} {nir[13:]}" if nir else "",
        f"R{exam:%y%m%d}",
        exam.strftime("%d/%m/%Y"),
        LAB,
        "DR MARTIN CLAIRE",
    ]
    text = "\n".join(header) + f"\nCompte rendu du {exam:%d/%m/%Y}\n****LAB****\n"
    return (text + "\n".join(lines) + "\n****FIN****\n****FINFICHIER****\n").encode("iso-8859-1")


def oru(identity: dict[str, Any], exam: date) -> bytes:
    """An HL7 v2.5 ORU^R01 with LOINC codes: a lipid panel."""
    message = Message("ORU_R01", version="2.5")
    message.msh.msh_3, message.msh.msh_4 = "SIL", "Laboratoire Bioplus"
    message.msh.msh_9, message.msh.msh_10, message.msh.msh_11 = (
        "ORU^R01^ORU_R01",
        f"BIO-{identity['nir']}-{exam:%Y%m%d}",
        "P",
    )
    result = message.add_group("ORU_R01_PATIENT_RESULT")
    pid = result.add_group("ORU_R01_PATIENT").pid
    pid.pid_3 = f"{identity['nir']}^^^INS-NIR"
    pid.pid_5 = f"{identity['birth_name']}^{identity['given_names']}"
    pid.pid_7, pid.pid_8 = identity["birth_date"].strftime("%Y%m%d"), str(identity["sex"])
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    order.obr.obr_4, order.obr.obr_7 = "EAL^Bilan lipidique", exam.strftime("%Y%m%d0800")
    for code, label, value, unit, reference, flag in (
        ("2093-3", "Cholestérol total", "2.35", "g/L", "1.50-2.00", "H"),
        ("2085-9", "Cholestérol HDL", "0.52", "g/L", "0.40-0.90", "N"),
        ("13457-7", "Cholestérol LDL calculé", "1.58", "g/L", "0.00-1.30", "H"),
        ("2571-8", "Triglycérides", "1.20", "g/L", "0.35-1.50", "N"),
    ):
        obx = order.add_group("ORU_R01_OBSERVATION").obx
        obx.obx_2, obx.obx_3, obx.obx_5 = "NM", f"{code}^{label}^LN", value
        obx.obx_6, obx.obx_7, obx.obx_8, obx.obx_11 = unit, reference, flag, "F"
    return str(message.to_er7()).encode("utf-8")


def glucose(value: str, flag: str) -> str:
    return f"RES|GLYCEMIE A JEUN|GLY|N|{value}|g/L|0.70|1.10|{flag}|F"


def demo_lab_create(*, desk: Actor, gp: Actor, identities: list[dict[str, Any]]) -> None:
    """``identities``: patients of ``gp`` (birth name, given names, sex, birth date, NIR)."""
    if LabFile.objects.exists() or len(identities) < 5:
        return  # made already, or a demo too small to hold them
    today = timezone.localdate()
    rising, potassium, count, lipids, typo = identities[:5]

    def receive(raw: bytes, name: str) -> LabFile:
        return services.receive(
            actor=desk, practice_id=desk.practice_id or 0, raw=raw, filename=name
        ).file

    # A glucose rising over three reports; the first two read and signed off already.
    for months, value, flag in ((6, "1.02", "N"), (3, "1.14", "H")):
        exam = today - timedelta(days=30 * months)
        earlier = receive(hprim(rising, exam, [glucose(value, flag)]), f"bilan-{exam}.hpr")
        services.sign_off(actor=gp, lab_file_id=earlier.pk, conclusion="ras")
    receive(
        hprim(
            rising,
            today - timedelta(days=1),
            [glucose("1.32", "H"), "RES|HEMOGLOBINE GLYQUEE (HbA1c)|HBA1C|N|7.4|%|4.0|6.0|H|F"],
        ),
        "bilan-glycemie.hpr",
    )
    receive(
        hprim(
            potassium,
            today,
            [
                "RES|POTASSIUM|K|N|5.9|mmol/L|3.5|5.0|H|F",
                "RES|SODIUM|NA|N|139|mmol/L|136|145|N|F",
                "RES|CREATININE|CREA|N|14.2|mg/L|6.0|12.0|H|F",
            ],
        ),
        "ionogramme.hpr",
    )
    receive(
        hprim(
            count,
            today,
            [
                "RES|HEMATIES|GR|N|4.62|T/L|4.20|5.70|N|F",
                "RES|HEMOGLOBINE|HB|N|14.1|g/dL|13.0|17.0|N|F",
                "RES|LEUCOCYTES|GB|N|6.8|G/L|4.0|10.0|N|F",
                "RES|PLAQUETTES|PLT|N|245|G/L|150|400|N|F",
            ],
        ),
        "nfs.hpr",
    )
    receive(oru(lipids, today), "bilan-lipidique.hl7")
    # The laboratory wrote the name with a typo: the desk chooses the patient.
    misspelt = str(typo["birth_name"]).upper()
    misspelt = misspelt[:-1] + ("E" if misspelt[-1] != "E" else "A")
    receive(hprim(typo, today, [glucose("0.95", "N")], family=misspelt), "glycemie.hpr")
    # A file cut short in its transfer: refused, kept for a person to look at.
    cut = hprim(count, today, ["RES|TSH|TSH|N|2.1|mUI/L|0.27|4.20|N|F"])
    receive(cut[: len(cut) - 30], "tsh-tronque.hpr")
