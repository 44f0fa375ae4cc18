"""What is issued or closed cannot change, whoever asks: the database refuses it.

- an issued invoice (or credit note) is never updated nor deleted, nor are its lines;
- a closed cash day, its payments, their allocations and its cheque deposits are frozen.
Corrections go through credit notes and through the next day's payments.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION carnet_billing_frozen(what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', what USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE OR REPLACE FUNCTION carnet_invoice_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'issued' THEN
        PERFORM carnet_billing_frozen('issued invoice ' || OLD.reference || ' cannot be changed: issue a credit note');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION carnet_invoice_immutable();

CREATE OR REPLACE FUNCTION carnet_invoice_line_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_status text;
BEGIN
    SELECT status INTO parent_status FROM billing_invoice
        WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
    IF parent_status = 'issued' THEN
        PERFORM carnet_billing_frozen('the lines of an issued invoice cannot be changed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_invoiceline_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION carnet_invoice_line_immutable();

CREATE OR REPLACE FUNCTION carnet_cash_day_closed(day_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT closed_at IS NOT NULL FROM billing_cashday WHERE id = day_id
$$;

CREATE OR REPLACE FUNCTION carnet_cash_day_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.closed_at IS NOT NULL THEN
        PERFORM carnet_billing_frozen('the cash day ' || OLD.day || ' is closed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_cashday_immutable BEFORE UPDATE OR DELETE ON billing_cashday
    FOR EACH ROW EXECUTE FUNCTION carnet_cash_day_immutable();

CREATE OR REPLACE FUNCTION carnet_payment_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF carnet_cash_day_closed(COALESCE(NEW.cash_day_id, OLD.cash_day_id))
       OR (TG_OP = 'UPDATE' AND carnet_cash_day_closed(OLD.cash_day_id)) THEN
        PERFORM carnet_billing_frozen('payments of a closed day cannot be changed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_payment_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_payment
    FOR EACH ROW EXECUTE FUNCTION carnet_payment_immutable();
CREATE TRIGGER billing_chequedeposit_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_chequedeposit
    FOR EACH ROW EXECUTE FUNCTION carnet_payment_immutable();

CREATE OR REPLACE FUNCTION carnet_allocation_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    day_id bigint;
BEGIN
    SELECT cash_day_id INTO day_id FROM billing_payment
        WHERE id = COALESCE(NEW.payment_id, OLD.payment_id);
    IF carnet_cash_day_closed(day_id) THEN
        PERFORM carnet_billing_frozen('payments of a closed day cannot be changed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_allocation_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_allocation
    FOR EACH ROW EXECUTE FUNCTION carnet_allocation_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS billing_allocation_immutable ON billing_allocation;
DROP TRIGGER IF EXISTS billing_chequedeposit_immutable ON billing_chequedeposit;
DROP TRIGGER IF EXISTS billing_payment_immutable ON billing_payment;
DROP TRIGGER IF EXISTS billing_cashday_immutable ON billing_cashday;
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS carnet_allocation_immutable();
DROP FUNCTION IF EXISTS carnet_payment_immutable();
DROP FUNCTION IF EXISTS carnet_cash_day_immutable();
DROP FUNCTION IF EXISTS carnet_cash_day_closed(bigint);
DROP FUNCTION IF EXISTS carnet_invoice_line_immutable();
DROP FUNCTION IF EXISTS carnet_invoice_immutable();
DROP FUNCTION IF EXISTS carnet_billing_frozen(text);
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
