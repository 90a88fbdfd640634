"""The database refuses tranches that add up to more than their award.

A CHECK constraint cannot look at other rows, so this is a trigger, on PostgreSQL and on SQLite. It is
(re)installed after every ``migrate`` (``post_migrate``), which also covers test databases built
without migrations. The domain checks the same rule first, with a clear message, and locks the award.
"""

from django.db import connections

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS funding_tranche_sum_insert BEFORE INSERT ON funding_tranche
    WHEN (SELECT COALESCE(SUM(amount), 0) FROM funding_tranche WHERE award_id = NEW.award_id) + NEW.amount
         > (SELECT amount FROM funding_award WHERE id = NEW.award_id) + 0.000001
    BEGIN SELECT RAISE(ABORT, 'funding: the tranches would exceed the award'); END""",
    """CREATE TRIGGER IF NOT EXISTS funding_tranche_sum_update BEFORE UPDATE OF amount, award_id ON funding_tranche
    WHEN (SELECT COALESCE(SUM(amount), 0) FROM funding_tranche WHERE award_id = NEW.award_id AND id <> OLD.id)
         + NEW.amount > (SELECT amount FROM funding_award WHERE id = NEW.award_id) + 0.000001
    BEGIN SELECT RAISE(ABORT, 'funding: the tranches would exceed the award'); END""",
    """CREATE TRIGGER IF NOT EXISTS funding_award_amount_update BEFORE UPDATE OF amount ON funding_award
    WHEN (SELECT COALESCE(SUM(amount), 0) FROM funding_tranche WHERE award_id = NEW.id) > NEW.amount + 0.000001
    BEGIN SELECT RAISE(ABORT, 'funding: the tranches would exceed the award'); END""",
]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION funding_tranches_within_award() RETURNS trigger AS $$
    DECLARE
        award_pk bigint;
        cap numeric;
        total numeric;
    BEGIN
        IF TG_TABLE_NAME = 'funding_award' THEN
            award_pk := NEW.id;
            cap := NEW.amount;
            SELECT COALESCE(SUM(amount), 0) INTO total FROM funding_tranche WHERE award_id = award_pk;
        ELSE
            award_pk := NEW.award_id;
            -- Lock the award: concurrent tranche writes of one award are serialised here.
            SELECT amount INTO cap FROM funding_award WHERE id = award_pk FOR UPDATE;
            SELECT COALESCE(SUM(amount), 0) INTO total FROM funding_tranche
             WHERE award_id = award_pk AND (TG_OP = 'INSERT' OR id <> NEW.id);
            total := total + NEW.amount;
        END IF;
        IF total > cap THEN
            RAISE EXCEPTION 'funding: the tranches would exceed the award' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS funding_tranche_sum ON funding_tranche",
    """CREATE TRIGGER funding_tranche_sum BEFORE INSERT OR UPDATE OF amount, award_id ON funding_tranche
    FOR EACH ROW EXECUTE FUNCTION funding_tranches_within_award()""",
    "DROP TRIGGER IF EXISTS funding_award_amount ON funding_award",
    """CREATE TRIGGER funding_award_amount BEFORE UPDATE OF amount ON funding_award
    FOR EACH ROW EXECUTE FUNCTION funding_tranches_within_award()""",
]


def install_guards(using: str = "default", **kwargs) -> None:
    connection = connections[using]
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(connection.vendor)
    if statements is None:
        raise RuntimeError(f"No tranche guard for the {connection.vendor} database.")
    if "funding_tranche" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def on_post_migrate(sender, using="default", **kwargs) -> None:
    install_guards(using=using)
