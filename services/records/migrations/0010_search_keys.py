"""Typo tolerance as people expect it from a search engine (records/selectors/patients.py).

A typed term finds a word of a name within one edit (substitution, insertion, deletion or
transposition of two neighbours) for words of 4 to 7 letters, two edits from 8 letters,
or with the same French spelling (``carnet_name_key``: "berjer" is "berger", "filipe" is
"philippe"), or as the beginning of the word.

The edits are counted only on a few candidates, found by B-tree equality, which row-level
security lets PostgreSQL use (text equality is LEAKPROOF): every dictionary word has its
lookup keys in ``records_namekey`` (``carnet_word_keys``): its phonetic key, and its
spelling with each letter deleted in turn (two words within one edit share one of them),
or for words of 8 letters or more the same for each half (within two edits, one half is
within one edit of the start or of the end of the typed term). The typed term's keys
(``carnet_term_keys``) are computed once per statement, from the constant term.

Words are now split at hyphens and apostrophes too ("n'diaye-lefevre" is three words),
so the word tables are rebuilt. ``fuzzystrmatch`` is a trusted extension: the database
owner may create it.
"""

from django.db import migrations, models
import django.db.models.deletion

FUNCTIONS = r"""
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE OR REPLACE FUNCTION carnet_name_key(word text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    k text := regexp_replace(word, '[^a-z0-9]', '', 'g');
BEGIN
    k := regexp_replace(k, '(er|ez|et)$', 'E');  -- a final "é" sound
    k := replace(k, 'ph', 'f');
    k := replace(k, 'sch', 'X');
    k := replace(k, 'chr', 'kr');
    k := replace(k, 'ch', 'X');
    k := replace(k, 'sh', 'X');
    k := replace(k, 'qu', 'k');
    k := replace(k, 'ck', 'k');
    k := replace(k, 'bv', 'v');
    k := translate(k, 'qyzw', 'kisv');
    k := regexp_replace(k, 'gu([eiE])', 'G\1', 'g');  -- a hard g
    k := regexp_replace(k, 'ge([aou])', 'j\1', 'g');
    k := regexp_replace(k, 'g([eiE])', 'j\1', 'g');
    k := regexp_replace(k, 'c([eiE])', 's\1', 'g');
    k := replace(k, 'c', 'k');
    k := replace(k, 'h', '');
    k := replace(k, 'eau', 'o');
    k := replace(k, 'au', 'o');
    k := regexp_replace(k, '[ae]i', 'e', 'g');
    k := regexp_replace(k, '(.)\1+', '\1', 'g');
    k := regexp_replace(k, 'e*[sdtxp]*e*$', '');  -- silent final letters
    k := lower(k);
    RETURN CASE WHEN k = '' THEN word ELSE k END;
END;
$$;

CREATE OR REPLACE FUNCTION carnet_edit_budget(letters integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE WHEN letters >= 8 THEN 2 WHEN letters >= 4 THEN 1 ELSE 0 END
$$;

-- The key functions are PL/pgSQL, not SQL: the search's constant term is turned into
-- its keys while the statement is planned, and PL/pgSQL keeps its plans for the session
-- where a nested SQL function would be planned again at each call (10 ms a search).

-- A string and every string one deletion away from it.
CREATE OR REPLACE FUNCTION carnet_deletions(s text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    found text[] := ARRAY[s];
    i integer;
BEGIN
    FOR i IN 1 .. length(s) LOOP
        found := found || overlay(s PLACING '' FROM i FOR 1);
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT d FROM unnest(found) AS d WHERE d <> '');
END;
$$;

-- With a marker: '<' for the start of a word, '>' for its end.
CREATE OR REPLACE FUNCTION carnet_marked(marker text, keys text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
BEGIN
    RETURN ARRAY(SELECT marker || k FROM unnest(keys) AS k);
END;
$$;

-- A dictionary word's lookup keys: its phonetic key (a French spelling of the same sound
-- is found by that key alone), and its spelling with the deletions its budget of edits
-- needs: none under 4 letters, each letter from 4 to 7, each letter of each half from 8.
CREATE OR REPLACE FUNCTION carnet_word_keys(word text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    keys text[];
    half integer := length(word) / 2;
BEGIN
    keys := CASE carnet_edit_budget(length(word))
        WHEN 0 THEN ARRAY[word]
        WHEN 1 THEN carnet_deletions(word)
        ELSE carnet_marked('<', carnet_deletions(left(word, half)))
             || carnet_marked('>', carnet_deletions(substr(word, half + 1)))
    END;
    RETURN ARRAY(SELECT DISTINCT k FROM unnest(keys || carnet_name_key(word)) AS k);
END;
$$;

-- What a typed term looks up: its phonetic key, itself and its deletions (words of 4 to 7
-- letters within one edit), and for each length of a word of 8 letters or more it could
-- be within two edits of, the starts and ends of the term around that word's halves.
CREATE OR REPLACE FUNCTION carnet_term_keys(term text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    keys text[] := CASE WHEN length(term) >= 3 THEN carnet_deletions(term) ELSE ARRAY[term] END;
    letters integer;
    part integer;
BEGIN
    IF length(term) >= 6 THEN
        FOR letters IN greatest(8, length(term) - 2) .. length(term) + 2 LOOP
            FOR part IN letters / 2 - 1 .. letters / 2 + 1 LOOP
                IF part BETWEEN 1 AND length(term) THEN
                    keys := keys || carnet_marked('<', carnet_deletions(left(term, part)));
                END IF;
            END LOOP;
            FOR part IN letters - letters / 2 - 1 .. letters - letters / 2 + 1 LOOP
                IF part BETWEEN 1 AND length(term) THEN
                    keys := keys || carnet_marked('>', carnet_deletions(right(term, part)));
                END IF;
            END LOOP;
        END LOOP;
    END IF;
    RETURN ARRAY(SELECT DISTINCT k FROM unnest(keys || carnet_name_key(term)) AS k);
END;
$$;

-- Edits from a typed form to a dictionary form when a transposition of two neighbours
-- (one edit) is among them, within the budget, or NULL: one transposition then
-- levenshtein (C) for the rest, or two transpositions. Called only for the few pairs
-- that levenshtein alone puts just over the budget.
CREATE OR REPLACE FUNCTION carnet_transposed_edits(typed text, form text, budget integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    best integer := budget + 1;
    swapped text;
    i integer;
    j integer;
BEGIN
    FOR i IN 1 .. length(typed) - 1 LOOP
        CONTINUE WHEN substr(typed, i, 1) = substr(typed, i + 1, 1);
        swapped := overlay(typed PLACING substr(typed, i + 1, 1) || substr(typed, i, 1) FROM i FOR 2);
        best := least(best, 1 + levenshtein_less_equal(swapped, form, budget - 1));
        IF budget >= 2 AND best > 2 AND length(typed) = length(form) THEN
            FOR j IN i + 2 .. length(typed) - 1 LOOP
                IF overlay(swapped PLACING substr(swapped, j + 1, 1) || substr(swapped, j, 1)
                           FROM j FOR 2) = form THEN
                    best := 2;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    RETURN CASE WHEN best <= budget THEN best END;
END;
$$;

-- Edits from a typed form to a dictionary form within the dictionary form's budget, or
-- NULL. levenshtein (C) decides most pairs; the OSA distance is computed only where a
-- transposition could bring the pair within the budget. Not STRICT, so that PostgreSQL
-- inlines it into the search.
CREATE OR REPLACE FUNCTION carnet_edits(typed text, form text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN levenshtein_less_equal(typed, form, 2) <= least(1, carnet_edit_budget(length(form)))
            THEN levenshtein_less_equal(typed, form, 2)
        WHEN length(form) >= 4
             AND levenshtein_less_equal(typed, form, 4) <= 2 * carnet_edit_budget(length(form))
            THEN least(
                CASE WHEN levenshtein_less_equal(typed, form, 2) <= carnet_edit_budget(length(form))
                     THEN levenshtein_less_equal(typed, form, 2) END,
                carnet_transposed_edits(typed, form, carnet_edit_budget(length(form))))
    END
$$;
"""

# Hyphens, apostrophes and punctuation separate words as spaces do.
WORDS = r"""
CREATE OR REPLACE FUNCTION carnet_name_words(name text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT DISTINCT word FROM regexp_split_to_table(name, '[[:space:]''’‘.,;:/()_-]+') AS word
    WHERE word <> ''
$$;

CREATE OR REPLACE FUNCTION carnet_patient_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM records_patientword WHERE patient_id = OLD.id;
    END IF;
    INSERT INTO records_patientword (practice_id, patient_id, word)
        SELECT NEW.practice_id, NEW.id, word FROM carnet_name_words(NEW.search_name) AS word;
    -- In word order (0007); a word new to the practice gets its lookup keys.
    WITH added AS (
        INSERT INTO records_nameword (practice_id, word)
            SELECT NEW.practice_id, word FROM carnet_name_words(NEW.search_name) AS word
            ORDER BY word
            ON CONFLICT (practice_id, word) DO NOTHING
            RETURNING practice_id, word)
    INSERT INTO records_namekey (practice_id, key, word)
        SELECT added.practice_id, k.key, added.word
        FROM added, unnest(carnet_word_keys(added.word)) AS k(key);
    RETURN NULL;
END;
$$;

TRUNCATE records_patientword, records_nameword, records_namekey;
INSERT INTO records_patientword (practice_id, patient_id, word)
    SELECT practice_id, id, word FROM records_patient, carnet_name_words(search_name) AS word;
INSERT INTO records_nameword (practice_id, word)
    SELECT DISTINCT practice_id, word FROM records_patientword;
INSERT INTO records_namekey (practice_id, key, word)
    SELECT w.practice_id, k.key, w.word
    FROM records_nameword w, unnest(carnet_word_keys(w.word)) AS k(key);

-- The beginning of a word, while typing: a range of the byte order.
CREATE INDEX name_word_prefix ON records_nameword (practice_id, (word COLLATE "C"));
-- The trigram match of the dictionary (0006) is replaced by the lookup keys.
DROP INDEX IF EXISTS name_word_trgm;
ANALYZE records_patientword;
ANALYZE records_nameword;
ANALYZE records_namekey;
"""

REVERSE_WORDS = """
DROP INDEX IF EXISTS name_word_prefix;
CREATE INDEX IF NOT EXISTS name_word_trgm ON records_nameword USING gin (practice_id, word gin_trgm_ops);
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
TRUNCATE records_patientword, records_nameword;
INSERT INTO records_patientword (practice_id, patient_id, word)
    SELECT DISTINCT practice_id, id, word
    FROM records_patient, unnest(string_to_array(search_name, ' ')) AS word WHERE word <> '';
INSERT INTO records_nameword (practice_id, word)
    SELECT DISTINCT practice_id, word FROM records_patientword;
DROP FUNCTION IF EXISTS carnet_name_words(text);
"""

REVERSE_FUNCTIONS = """
DROP FUNCTION IF EXISTS carnet_edits(text, text);
DROP FUNCTION IF EXISTS carnet_transposed_edits(text, text, integer);
DROP FUNCTION IF EXISTS carnet_term_keys(text);
DROP FUNCTION IF EXISTS carnet_word_keys(text);
DROP FUNCTION IF EXISTS carnet_marked(text, text[]);
DROP FUNCTION IF EXISTS carnet_deletions(text);
DROP FUNCTION IF EXISTS carnet_edit_budget(integer);
DROP FUNCTION IF EXISTS carnet_name_key(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("practices", "0002_care_team_mode"),
        ("records", "0009_coding_and_letters"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, reverse_sql=REVERSE_FUNCTIONS),
        migrations.AddField(
            model_name="nameword",
            name="key",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func("word", function="carnet_name_key"),
                output_field=models.TextField(),
            ),
        ),
        migrations.CreateModel(
            name="NameKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.TextField()),
                ("word", models.TextField()),
                ("practice", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="practices.practice")),
            ],
            options={"indexes": [models.Index(fields=["practice", "key", "word"], name="name_key")]},
        ),
        migrations.RunSQL(WORDS, reverse_sql=REVERSE_WORDS),
    ]
