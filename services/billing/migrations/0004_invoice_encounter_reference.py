"""An invoice names only a consultation of its own patient and practice, or none.

A composite foreign key to the consultation's (id, patient, practice): the database
refuses an invoice naming another practice's consultation, another patient's, or one
that does not exist, whatever the code above it does. ``NOT VALID``: invoices issued
before this check are never rewritten (they are immutable); every new one is checked.
"""

from django.db import migrations

SQL = """
ALTER TABLE billing_invoice
    ADD CONSTRAINT invoice_encounter_of_patient_in_practice
    FOREIGN KEY (encounter_id, patient_id, practice_id)
    REFERENCES records_encounter (id, patient_id, practice_id)
    NOT VALID;
"""

REVERSE = "ALTER TABLE billing_invoice DROP CONSTRAINT invoice_encounter_of_patient_in_practice;"


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_alter_act_nomenclature"),
        ("records", "0013_encounter_reference"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
