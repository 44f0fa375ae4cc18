from tests.billing.conftest import billing_world, fee_schedules  # noqa: F401 - fixtures
