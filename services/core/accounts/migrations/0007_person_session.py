"""Sessions move to a table that names their person in a column (``PersonSession``).

The sessions open at the upgrade move with it, each with the person its data names: no
one is logged out by the upgrade.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def move_open_sessions(apps, schema_editor):
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    PersonSession = apps.get_model("accounts", "PersonSession")
    Person = apps.get_model("accounts", "Person")
    people = set(Person.objects.values_list("pk", flat=True))
    decoder = SessionStore()
    moved = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        named = decoder.decode(session.session_data).get(SESSION_KEY)
        person_id = int(named) if str(named).isdigit() and int(named) in people else None
        moved.append(
            PersonSession(
                session_key=session.session_key,
                session_data=session.session_data,
                expire_date=session.expire_date,
                person_id=person_id,
            )
        )
    PersonSession.objects.bulk_create(moved, batch_size=1000)
    Session.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_person_inami'),
        ('sessions', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonSession',
            fields=[
                ('session_key', models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name='session key')),
                ('session_data', models.TextField(verbose_name='session data')),
                ('expire_date', models.DateTimeField(db_index=True, verbose_name='expire date')),
                ('person', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'session',
                'verbose_name_plural': 'sessions',
                'db_table': 'accounts_session',
            },
        ),
        migrations.RunPython(move_open_sessions, migrations.RunPython.noop),
    ]
