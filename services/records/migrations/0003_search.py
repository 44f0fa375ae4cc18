"""Typo-tolerant, accent-insensitive patient search with pg_trgm.

``unaccent`` is not IMMUTABLE (its dictionary could change), so it cannot feed an index
or a generated value directly; ``carnet_unaccent`` pins the dictionary and is declared
IMMUTABLE, the usual PostgreSQL idiom. A trigger keeps ``search_name`` up to date.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION carnet_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
$$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE OR REPLACE FUNCTION carnet_patient_search_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_name := lower(carnet_unaccent(
        concat_ws(' ', NEW.birth_name, NULLIF(NEW.used_name, ''), NEW.given_names)));
    RETURN NEW;
END;
$$;

CREATE TRIGGER records_patient_search_name
    BEFORE INSERT OR UPDATE OF birth_name, used_name, given_names ON records_patient
    FOR EACH ROW EXECUTE FUNCTION carnet_patient_search_name();

UPDATE records_patient SET birth_name = birth_name;
"""

REVERSE = """
DROP TRIGGER IF EXISTS records_patient_search_name ON records_patient;
DROP FUNCTION IF EXISTS carnet_patient_search_name();
DROP FUNCTION IF EXISTS carnet_unaccent(text);
"""


class Migration(migrations.Migration):
    dependencies = [("records", "0002_allergy_cim10code_document_drug_encounter_and_more")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
