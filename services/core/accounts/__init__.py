"""People, their roles in practices, second factor, login throttling and API tokens."""
