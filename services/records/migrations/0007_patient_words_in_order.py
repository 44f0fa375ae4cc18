"""The name-word dictionary is written in word order.

Two patients registered at the same moment whose names share new words insert the same
dictionary rows; inserted in different orders, each transaction could wait for the
other's row and PostgreSQL would abort one of them (a deadlock). In one order, the second
simply waits for the first.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION carnet_patient_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM records_patientword WHERE patient_id = OLD.id;
    END IF;
    INSERT INTO records_patientword (practice_id, patient_id, word)
        SELECT DISTINCT NEW.practice_id, NEW.id, word
        FROM unnest(string_to_array(NEW.search_name, ' ')) AS word WHERE word <> '';
    INSERT INTO records_nameword (practice_id, word)
        SELECT DISTINCT NEW.practice_id, word
        FROM unnest(string_to_array(NEW.search_name, ' ')) AS word WHERE word <> ''
        ORDER BY word
        ON CONFLICT (practice_id, word) DO NOTHING;
    RETURN NULL;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("records", "0006_patient_words")]

    operations = [migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop)]
