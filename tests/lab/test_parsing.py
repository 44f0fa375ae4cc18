"""Reading laboratory files: the HPRIM samples as data (every RES| line a result with its
value, unit, range and flag), an HL7 v2.5 ORU^R01 built with hl7apy read the same way, and
a corpus of broken files each refused with a clear reason."""

from __future__ import annotations

import os
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hl7apy.core import Message

from lab.parsing import MAX_BYTES, LabFileError, parse

DATA = Path(__file__).parent / "data"


def res_lines(name: str) -> list[list[str]]:
    text = (DATA / name).read_text(encoding="utf-8")
    padded = [(line.strip().split("|") + [""] * 14)[:14] for line in text.splitlines()]
    return [fields for fields in padded if fields[0] == "RES"]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.hpr")))
def test_every_res_line_of_the_samples_is_a_result_with_its_value_unit_and_range(name: str) -> None:
    message = parse((DATA / name).read_bytes())
    lines = [fields for fields in res_lines(name) if fields[1] or fields[4]]
    assert len(message.results) == len(lines)
    for result, fields in zip(message.results, lines, strict=True):
        assert result.label == fields[1]
        assert result.code == fields[2]
        assert result.unit == fields[5]
        written = fields[4].replace(",", ".")
        if result.value is not None:
            assert result.value == Decimal(written)
        else:
            assert result.value_text == fields[4].strip()


def test_the_first_sample_names_its_patient_laboratory_and_date() -> None:
    message = parse((DATA / "hprim_freehealth_tst_hprim_test1.hpr").read_bytes())
    assert message.format == "hprim"
    identity = message.identity
    assert (identity.family, identity.given) == ("FAKENAME", "FAKEFIRSTNAME")
    assert str(identity.birth_date) == "2009-12-18"
    assert identity.nir == "1234567890123"
    assert identity.sex == "M"  # from the NIR's first digit
    assert str(message.observed_on) == "2013-05-22"
    assert message.laboratory == "C LabFake"
    assert "I.G.E Totales" in message.report_text
    # The empty "RES||IGET 005|A" line is said, not silently dropped.
    assert message.skipped == ("line 35: empty result line",)
    (ige,) = message.results
    assert (ige.value, ige.unit, ige.low, ige.high, ige.flag) == (
        Decimal("164"),
        "UI/ml",
        Decimal("0"),
        Decimal("3000"),
        "normal",
    )


def test_flags_come_from_the_laboratory_or_else_from_the_range() -> None:
    results = {
        r.code: r
        for r in parse((DATA / "hprim_freehealth_tst_hprim_test2.hpr").read_bytes()).results
    }
    assert results["K33"].flag == "high"  # sent as H
    assert results["NA33"].flag == "normal"
    pipes = {
        r.code: r for r in parse((DATA / "hprim_hprimtool_fixture_pipes.hpr").read_bytes()).results
    }
    assert pipes["GLU"].flag == "high"  # no flag sent: 1.42 above 1.06
    assert pipes["TSH"].flag == "low"  # sent as L
    assert (pipes["BE"].low, pipes["BE"].high) == (Decimal("-2"), Decimal("2"))  # "-2 - 2"
    tags = {
        r.code: r for r in parse((DATA / "hprim_hprimtool_fixture_tags.hpr").read_bytes()).results
    }
    assert (tags["CA"].low, tags["CA"].high, tags["CA"].flag) == (
        Decimal("2.20"),
        Decimal("2.60"),
        "high",
    )


def test_a_sample_without_a_header_has_no_usable_identity() -> None:
    message = parse((DATA / "hprim_hprimtool_fixture_pipes.hpr").read_bytes())
    assert not message.identity.usable  # it will wait for a person to match it


def test_an_iso_8859_1_file_reads_with_its_accents() -> None:
    text = (DATA / "hprim_freehealth_tst_hprim_test2.hpr").read_text(encoding="utf-8")
    message = parse(text.encode("iso-8859-1"))
    assert "Hémoglobine" in [r.label for r in message.results]
    assert "résultats d'analyses" in message.report_text


def oru(**fields: str) -> str:
    """An HL7 v2.5 ORU^R01 as a laboratory sends it, built with hl7apy."""
    message = Message("ORU_R01", version="2.5")
    message.msh.msh_3 = "LABSYS"
    message.msh.msh_4 = fields.get("lab", "Laboratoire des Tilleuls")
    message.msh.msh_9 = fields.get("kind", "ORU^R01^ORU_R01")
    message.msh.msh_10 = fields.get("id", "MSG-0001")
    message.msh.msh_11 = "P"
    result = message.add_group("ORU_R01_PATIENT_RESULT")
    pid = result.add_group("ORU_R01_PATIENT").pid
    pid.pid_3 = fields.get(
        "nir", "185037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS"
    )
    pid.pid_5 = fields.get("name", "DUPONT^PAUL")
    pid.pid_7 = fields.get("birth", "19850312")
    pid.pid_8 = fields.get("sex", "M")
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    order.obr.obr_4 = "BILAN^Bilan sanguin"
    order.obr.obr_7 = "20261203083000"
    for code, label, kind, value, unit, ref, flag in (
        ("2345-7", "Glucose", "NM", "1.42", "g/L", "0.74-1.06", "H"),
        ("718-7", "Hémoglobine", "NM", "13,8", "g/dL", "12.0-16.0", "N"),
        ("5196-1", "Ag HBs", "ST", "négatif", "", "", ""),
    ):
        obx = order.add_group("ORU_R01_OBSERVATION").obx
        obx.obx_2, obx.obx_3, obx.obx_5 = kind, f"{code}^{label}^LN", value
        obx.obx_6, obx.obx_7, obx.obx_8, obx.obx_11 = unit, ref, flag, "F"
    return str(message.to_er7())


def test_an_hl7_oru_r01_reads_as_the_hprim_does() -> None:
    message = parse(oru().encode("utf-8"))
    assert (message.format, message.message_id, message.laboratory) == (
        "hl7v2",
        "MSG-0001",
        "Laboratoire des Tilleuls",
    )
    identity = message.identity
    assert (identity.family, identity.given, identity.sex) == ("DUPONT", "PAUL", "M")
    assert str(identity.birth_date) == "1985-03-12"
    assert identity.nir == "1850375123456"
    glucose, hemoglobin, hbs = message.results
    assert (glucose.code, glucose.code_system, glucose.value, glucose.flag) == (
        "2345-7",
        "LN",
        Decimal("1.42"),
        "high",
    )
    assert (glucose.low, glucose.high) == (Decimal("0.74"), Decimal("1.06"))
    assert glucose.observed_at is not None and glucose.observed_at.hour == 8
    assert hemoglobin.value == Decimal("13.8")  # a French decimal comma
    assert (hbs.value, hbs.value_text, hbs.flag) == (None, "négatif", "")


def test_an_hl7_message_with_line_feeds_reads_too() -> None:
    assert len(parse(oru().replace("\r", "\n").encode()).results) == 3


# --- the corpus of broken files -------------------------------------------------------------

SAMPLE = (DATA / "hprim_freehealth_tst_hprim_test2.hpr").read_bytes()


def broken() -> dict[str, tuple[bytes, str]]:
    noise = random.Random(7)
    return {
        "empty": (b"", "empty"),
        "blank lines": (b"\n\n  \n", "empty"),
        "truncated HPRIM": (SAMPLE[: len(SAMPLE) // 2], "truncated"),
        "UTF-16": (SAMPLE.decode("utf-8").encode("utf-16"), "binary"),
        "10 MB of noise": (os.urandom(10 * 1024 * 1024), "too_large"),
        "1 MB of random bytes": (
            bytes(noise.randrange(1, 256) for _ in range(MAX_BYTES // 2)),
            "binary",
        ),
        "a letter": ("Cher confrère, je vous adresse Mme X.".encode(), "unknown_format"),
        "a LAB block with no result": (b"****LAB****\nTEX|rien\n****FIN****\n", "no_results"),
        "an HL7 admission, not a result": (oru(kind="ADT^A01^ADT_A01").encode(), "not_oru"),
        "a broken HL7 header": (b"MSH|\rPID|||x\r", "bad_hl7"),
        "an HL7 version that does not exist": (
            b"MSH|^~\\&|A|B|||2026||ORU^R01|1|P|9.9\rPID|\r",
            "bad_hl7",
        ),
    }


@pytest.mark.parametrize("case", list(broken()))
def test_each_broken_file_gets_a_clear_reason(case: str) -> None:
    raw, code = broken()[case]
    with pytest.raises(LabFileError) as refused:
        parse(raw)
    assert refused.value.code == code
    assert refused.value.message and refused.value.message != code
