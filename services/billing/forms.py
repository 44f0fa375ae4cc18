from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Cover, Pathway, Payment

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvoiceForm(forms.Form):
    issuer = forms.TypedChoiceField(label=_("Practitioner"), coerce=int)
    service_date = forms.DateField(label=_("Date of service"), widget=DATE_INPUT)
    codes = forms.CharField(
        label=_("Acts (codes separated by spaces, e.g. G MEG)"),
        max_length=200,
        help_text=_(
            "A key letter with its coefficient: AMI4; kilometres after a star: IK*12."
            " A nurse's home visit: AMI4 IFD IK*12."
        ),
    )
    excess = forms.DecimalField(
        label=_("Excess fee (DE or sector 2), €"),
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
    )
    long_term_condition = forms.BooleanField(
        label=_("Long-term condition (ALD, 100 %)"), required=False
    )
    has_complementary = forms.BooleanField(
        label=_("Complementary insurer (AMC)"), required=False, initial=True
    )
    third_party_amo = forms.BooleanField(
        label=_("Third-party payment: mandatory insurer"), required=False
    )
    third_party_amc = forms.BooleanField(
        label=_("Third-party payment: complementary insurer"), required=False
    )
    preferential = forms.BooleanField(
        label=_("Belgium: preferential reimbursement (BIM)"), required=False
    )
    pathway = forms.ChoiceField(
        label=_("Care pathway"),
        choices=Pathway.choices,
        required=False,
        help_text=_(
            "Outside the pathway, the Assurance Maladie reimburses 30 % instead of 70 %,"
            " and the mutuelle does not make up the difference."
        ),
    )
    encounter = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # The French insurers and the care pathway mean nothing to a Belgian practice, and
    # BIM status nothing to a French one: each practice sees its own country's fields.
    FRENCH_ONLY = ("long_term_condition", "has_complementary", "third_party_amc", "pathway")

    def __init__(self, *args: Any, country: str = "FR", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if country.upper() == "BE":
            for name in self.FRENCH_ONLY:
                del self.fields[name]
            self.fields["codes"].label = _("Acts (INAMI codes separated by spaces, e.g. 101032)")
            self.fields["codes"].help_text = ""
            self.fields["excess"].label = _("Supplement above the fee, €")
            self.fields["third_party_amo"].label = _("Third-party payment: mutualité")
        else:
            del self.fields["preferential"]


class PaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    amount = forms.DecimalField(label=_("Amount (€)"), max_digits=10, decimal_places=2)
    cheque_number = forms.CharField(label=_("Cheque number"), max_length=30, required=False)
    cheque_bank = forms.CharField(label=_("Bank"), max_length=100, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300)


class BankDetailsForm(forms.Form):
    bank_name = forms.CharField(label=_("Bank"), max_length=100, required=False)
    iban = forms.CharField(
        label=_("IBAN of the account the cheques are paid into"),
        max_length=50,
        required=False,
        help_text=_("As on the bank's RIB, e.g. FR76 3000 6000 0112 3456 7890 189."),
    )


class CloseDayForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have counted the cash and the cheques: close the day"), required=True
    )


class CoverForm(forms.Form):
    """The patient's cover as the attestation de droits and the mutuelle's card say."""

    regime = forms.ChoiceField(label=_("Scheme"), choices=Cover.Regime.choices)
    caisse_code = forms.CharField(
        label=_("Fund code (3 digits)"), max_length=3, help_text=_("e.g. 751 for the CPAM of Paris")
    )
    caisse_name = forms.CharField(label=_("Fund"), max_length=100)
    rights_from = forms.DateField(label=_("Rights open from"), widget=DATE_INPUT)
    rights_until = forms.DateField(label=_("Rights open until"), widget=DATE_INPUT, required=False)
    long_term_condition = forms.BooleanField(
        label=_("Long-term condition (ALD, 100 %)"), required=False
    )
    long_term_until = forms.DateField(label=_("ALD until"), widget=DATE_INPUT, required=False)
    c2s = forms.BooleanField(label=_("Complémentaire santé solidaire (C2S)"), required=False)
    ame = forms.BooleanField(label=_("Aide médicale de l'État (AME)"), required=False)
    amc_name = forms.CharField(label=_("Complementary insurer (mutuelle)"), required=False)
    amc_number = forms.CharField(
        label=_("Complementary insurer's number"), max_length=10, required=False
    )
    amc_member_number = forms.CharField(label=_("Member number"), max_length=30, required=False)
    amc_contract = forms.CharField(label=_("Contract"), max_length=60, required=False)
    amc_until = forms.DateField(
        label=_("Complementary cover until"), widget=DATE_INPUT, required=False
    )


class InsurerPaymentForm(forms.Form):
    """An insurer's transfer, as its statement (décompte) gives it."""

    paid_on = forms.DateField(label=_("Date of the transfer"))
    amount = forms.DecimalField(label=_("Amount (€)"), max_digits=10, decimal_places=2)
    reference = forms.CharField(label=_("Reference of the statement"), max_length=60)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class RejectionForm(forms.Form):
    payer = forms.ChoiceField(
        label=_("Insurer"),
        choices=[("amo", _("Mandatory insurer")), ("amc", _("Complementary insurer"))],
    )
    reason = forms.CharField(label=_("Reason of the rejection"), max_length=300)


# The kinds of a tariff, as the practice's administrator reads them.
TARIFF_KINDS = [
    ("act", _("Act")),
    ("modifier", _("Majoration or allowance (IFD, MEG...)")),
    ("key", _("Key letter, times the act's coefficient (AMI, AMK, SF...)")),
    ("distance", _("Per kilometre (IK): the quantity is the distance")),
    ("excess", _("Excess fee (amount set on the invoice)")),
]


class TariffForm(forms.Form):
    """One dated tariff of the practice's schedule (a new version from its first day)."""

    nomenclature = forms.ChoiceField(label=_("Nomenclature"))
    code = forms.CharField(
        label=_("Code"), max_length=16, help_text=_("As billed, e.g. AMI, IFD, IK, G.")
    )
    label = forms.CharField(label=_("Label"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=TARIFF_KINDS)
    profession = forms.ChoiceField(
        label=_("Profession"),
        required=False,
        help_text=_("Whose tariff it is; empty: every practitioner of the practice."),
    )
    valid_from = forms.DateField(label=_("In force from"), widget=DATE_INPUT)
    valid_to = forms.DateField(
        label=_("Until (included)"),
        widget=DATE_INPUT,
        required=False,
        help_text=_("Empty: until a later tariff replaces it."),
    )
    amount = forms.DecimalField(
        label=_("Amount (€)"),
        max_digits=10,
        decimal_places=2,
        help_text=_("For a key letter, the value of coefficient 1; for an IK, per km."),
    )
    amo_rate = forms.DecimalField(
        label=_("Reimbursed by the Assurance Maladie (%)"),
        max_digits=5,
        decimal_places=2,
        initial=70,
        help_text=_("70 for a doctor's or a midwife's act, 60 for a nurse's or a physio's."),
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        required=False,
        help_text=_("Where the tariff comes from, e.g. ameli.fr, avenant 11."),
    )

    def __init__(self, *args: Any, country: str = "FR", **kwargs: Any) -> None:
        from billing.services.tariffs import NOMENCLATURES
        from core.accounts.models import Person

        super().__init__(*args, **kwargs)
        nomenclatures = NOMENCLATURES.get(country.upper(), ("NGAP", "CCAM"))
        self.fields["nomenclature"].choices = [(n, n) for n in nomenclatures]  # type: ignore[attr-defined]
        self.fields["profession"].choices = [  # type: ignore[attr-defined]
            ("", _("Any")),
            *Person.Profession.choices,
        ]
        if country.upper() == "BE":
            del self.fields["amo_rate"]


class TariffImportForm(forms.Form):
    """A CSV file of tariffs, with the columns of the shipped fees_fr.csv."""

    file = forms.FileField(
        label=_("CSV file of tariffs"),
        required=False,
        help_text=_("UTF-8, one tariff per line, the first line naming the columns as above."),
    )
    # The file checked in the preview, sent again to apply it (checked again then).
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)


class PrinterOffsetForm(forms.Form):
    """A printer's correction as measured on the test print. The values are checked by
    the service (billing.services.printer), which the page and any other caller share."""

    printer = forms.CharField(label=_("Printer"), max_length=60, required=False)
    x_mm = forms.CharField(
        label=_("Horizontal correction (mm, positive to the right)"), max_length=12, required=False
    )
    y_mm = forms.CharField(
        label=_("Vertical correction (mm, positive downwards)"), max_length=12, required=False
    )


class CareSheetPrintForm(forms.Form):
    """How to print the feuille de soins: the whole form on plain paper, or its values
    over the official pre-printed form with a printer's correction."""

    support = forms.ChoiceField(label=_("Print on"))

    def __init__(self, *args: Any, printers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("blanc", _("plain paper (the whole form is printed)"))]
        choices += [
            (
                f"preimprime-{p.pk}",
                _("pre-printed form, printer %(name)s (x %(x)s mm, y %(y)s mm)")
                % {"name": p.printer, "x": p.x_mm, "y": p.y_mm},
            )
            for p in printers
        ]
        choices.append(("preimprime", _("pre-printed form, no correction")))
        cast(forms.ChoiceField, self.fields["support"]).choices = choices
