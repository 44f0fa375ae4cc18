from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "core.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from core import dbsecurity

        # A person reads their own memberships before a practice is chosen (login).
        dbsecurity.register_policies(
            "accounts_membership",
            [
                "CREATE POLICY carnet_tenant ON {table}"
                " USING (practice_id = carnet_current_practice()"
                " OR person_id = carnet_current_person())"
                " WITH CHECK (practice_id = carnet_current_practice())",
            ],
        )
        # A token is looked up by its hash before any practice is known; it holds
        # only a hash of the secret and no patient data.
        dbsecurity.register_exempt("accounts_apitoken", "looked up before the practice is known")
        # An invitation is opened by a person who is not logged in yet, by its secret;
        # it holds a hash of that secret and no patient data.
        dbsecurity.register_exempt("accounts_invitation", "opened before its person is logged in")
