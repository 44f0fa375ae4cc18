"""A practice that left the cooperative is deleted from the node after its notice
(``core.practices.services.leaving.practice_purge``): the triggers that freeze its issued
invoices, closed days and their payments let that one transaction delete them, run by
the tables' owner role for that practice (``carnet_purging``, audit migration 0004).
Every other change stays refused, whoever asks; the cooperative's own dues invoices are
never deleted (the purge keeps them)."""

from django.db import migrations

# The five trigger functions of 0002, each with the purge's gate as its first statement;
# the reverse writes them back without it.
GATE = "    IF TG_OP = 'DELETE' AND carnet_purging(OLD.practice_id) THEN RETURN OLD; END IF;\n"
FUNCTIONS = """
CREATE OR REPLACE FUNCTION carnet_invoice_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
{gate}    IF OLD.status = 'issued' THEN
        PERFORM carnet_billing_frozen('issued invoice ' || OLD.reference || ' cannot be changed: issue a credit note');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION carnet_invoice_line_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_status text;
BEGIN
{gate}    SELECT status INTO parent_status FROM billing_invoice
        WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
    IF parent_status = 'issued' THEN
        PERFORM carnet_billing_frozen('the lines of an issued invoice cannot be changed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION carnet_cash_day_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
{gate}    IF OLD.closed_at IS NOT NULL THEN
        PERFORM carnet_billing_frozen('the cash day ' || OLD.day || ' is closed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION carnet_payment_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
{gate}    IF carnet_cash_day_closed(COALESCE(NEW.cash_day_id, OLD.cash_day_id))
       OR (TG_OP = 'UPDATE' AND carnet_cash_day_closed(OLD.cash_day_id)) THEN
        PERFORM carnet_billing_frozen('payments of a closed day cannot be changed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION carnet_allocation_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    day_id bigint;
BEGIN
{gate}    SELECT cash_day_id INTO day_id FROM billing_payment
        WHERE id = COALESCE(NEW.payment_id, OLD.payment_id);
    IF carnet_cash_day_closed(day_id) THEN
        PERFORM carnet_billing_frozen('payments of a closed day cannot be changed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
"""
SQL = FUNCTIONS.format(gate=GATE)
REVERSE = FUNCTIONS.format(gate="")


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_dues_payment"), ("audit", "0004_practice_purge")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
