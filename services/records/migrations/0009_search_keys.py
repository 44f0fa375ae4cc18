"""Typo tolerance as people expect it from a search engine (records/selectors/patients.py).

A typed term finds a word of a name within one edit (substitution, insertion, deletion or
transposition of two neighbours) for words of 4 to 7 letters, two edits from 8 letters,
or with the same French spelling (``carnet_name_key``: "berjer" is "berger", "filipe" is
"philippe"), or as the beginning of the word.

The edits are counted only on a few candidates, found by B-tree equality, which row-level
security lets PostgreSQL use (text equality is LEAKPROOF): every dictionary word has its
lookup keys in ``records_namekey`` (``carnet_word_keys``): its spelling and its phonetic
key with each letter deleted in turn (two forms within one edit share one of them), and for
words of 8 letters or more the same for each half (within two edits, one half is within
one edit of the start or of the end of the typed term). The typed term's keys
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

-- A string and every string one deletion away from it.
CREATE OR REPLACE FUNCTION carnet_deletions(s text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT array_agg(DISTINCT d) FROM (
        SELECT s AS d
        UNION ALL
        SELECT overlay(s PLACING '' FROM i FOR 1) FROM generate_series(1, length(s)) AS i
    ) AS deletions WHERE d <> ''
$$;

-- The lookup keys of one form of a dictionary word (its spelling or its phonetic key).
CREATE OR REPLACE FUNCTION carnet_form_keys(form text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE carnet_edit_budget(length(form))
        WHEN 0 THEN ARRAY[form]
        WHEN 1 THEN carnet_deletions(form)
        ELSE ARRAY(
            SELECT '<' || d FROM unnest(carnet_deletions(left(form, length(form) / 2))) AS d
            UNION
            SELECT '>' || d FROM unnest(carnet_deletions(substr(form, length(form) / 2 + 1))) AS d)
    END
$$;

CREATE OR REPLACE FUNCTION carnet_word_keys(word text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT ARRAY(SELECT unnest(carnet_form_keys(word))
                 UNION SELECT unnest(carnet_form_keys(carnet_name_key(word))))
$$;

-- What a typed form (spelling or phonetic key) looks up: itself and its deletions (words
-- of 4 to 7 letters within one edit), and the halves of words of 8 letters or more of
-- any length it could be within two edits of.
CREATE OR REPLACE FUNCTION carnet_typed_keys(form text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT ARRAY(
        SELECT unnest(CASE WHEN length(form) >= 3 THEN carnet_deletions(form) ELSE ARRAY[form] END)
        UNION
        SELECT '<' || d
        FROM generate_series(greatest(8, length(form) - 2), length(form) + 2) AS n,
             generate_series(n / 2 - 1, n / 2 + 1) AS m,
             unnest(carnet_deletions(left(form, m))) AS d
        WHERE length(form) >= 6 AND m BETWEEN 1 AND length(form)
        UNION
        SELECT '>' || d
        FROM generate_series(greatest(8, length(form) - 2), length(form) + 2) AS n,
             generate_series(n - n / 2 - 1, n - n / 2 + 1) AS m,
             unnest(carnet_deletions(right(form, m))) AS d
        WHERE length(form) >= 6 AND m BETWEEN 1 AND length(form))
$$;

CREATE OR REPLACE FUNCTION carnet_term_keys(term text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT ARRAY(SELECT unnest(carnet_typed_keys(term))
                 UNION SELECT unnest(carnet_typed_keys(carnet_name_key(term))))
$$;

-- Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a
-- substring): a transposition of two neighbours is one edit.
CREATE OR REPLACE FUNCTION carnet_osa(a text, b text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    la integer := length(a);
    lb integer := length(b);
    d integer[];
    i integer; j integer; cost integer; w integer := lb + 1;
BEGIN
    IF la = 0 THEN RETURN lb; END IF;
    IF lb = 0 THEN RETURN la; END IF;
    d := array_fill(0, ARRAY[(la + 1) * (lb + 1)]);
    FOR i IN 0..la LOOP d[i * w + 1] := i; END LOOP;
    FOR j IN 0..lb LOOP d[j + 1] := j; END LOOP;
    FOR i IN 1..la LOOP
        FOR j IN 1..lb LOOP
            cost := CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END;
            d[i * w + j + 1] := least(d[(i - 1) * w + j + 1] + 1, d[i * w + j] + 1,
                                      d[(i - 1) * w + j] + cost);
            IF i > 1 AND j > 1 AND substr(a, i, 1) = substr(b, j - 1, 1)
               AND substr(a, i - 1, 1) = substr(b, j, 1) THEN
                d[i * w + j + 1] := least(d[i * w + j + 1], d[(i - 2) * w + j - 1] + 1);
            END IF;
        END LOOP;
    END LOOP;
    RETURN d[la * w + lb + 1];
END;
$$;

-- Edits from a typed form to a dictionary form within the dictionary form's budget, or
-- NULL. levenshtein (C) decides most pairs; the OSA distance is computed only where a
-- transposition could bring the pair within the budget.
CREATE OR REPLACE FUNCTION carnet_edits(typed text, form text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE
        WHEN lev <= budget THEN lev
        WHEN lev <= 2 * budget AND carnet_osa(typed, form) <= budget THEN carnet_osa(typed, form)
    END
    FROM (SELECT carnet_edit_budget(length(form)) AS budget) AS b,
         LATERAL (SELECT levenshtein_less_equal(typed, form, 2 * b.budget) AS lev) AS l
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
DROP FUNCTION IF EXISTS carnet_osa(text, text);
DROP FUNCTION IF EXISTS carnet_term_keys(text);
DROP FUNCTION IF EXISTS carnet_typed_keys(text);
DROP FUNCTION IF EXISTS carnet_word_keys(text);
DROP FUNCTION IF EXISTS carnet_form_keys(text);
DROP FUNCTION IF EXISTS carnet_deletions(text);
DROP FUNCTION IF EXISTS carnet_edit_budget(integer);
DROP FUNCTION IF EXISTS carnet_name_key(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("practices", "0002_care_team_mode"),
        ("records", "0008_identity"),
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
