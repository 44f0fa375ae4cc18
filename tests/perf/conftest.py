from tests.billing.conftest import alice_issuer, billing_world, fee_schedules  # noqa: F401 - fixtures
