"""No models: this module exists so that the composition root receives post_migrate
(see apps.py), after every service's migrations, to apply database security."""
