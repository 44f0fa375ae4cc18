"""Patient identity over time: how to reach the patient (paper only is a choice of its
own; a database default so bulk loads need not name it), since when the GP of record
is, and ``IdentityChange``, the history of every correction, death, change of GP and
merge (old and new values, who, when, why). The new table carries ``practice_id``:
row-level security applies after migrate."""


import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('practices', '0001_initial'),
        ('records', '0007_patient_words_in_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='patient',
            name='contact_preference',
            field=models.CharField(blank=True, choices=[('phone', 'By phone or e-mail'), ('paper', 'Paper only: no phone, no e-mail (by post or at the desk)')], db_default='', default='', max_length=10, verbose_name='how to reach the patient'),
        ),
        migrations.AddField(
            model_name='patient',
            name='gp_since',
            field=models.DateField(blank=True, null=True, verbose_name='GP of record since'),
        ),
        migrations.CreateModel(
            name='IdentityChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('correction', 'Identity corrected'), ('death', 'Death recorded'), ('gp', 'GP of record changed'), ('merge', 'Duplicate record merged')], max_length=12)),
                ('changes', models.JSONField(default=dict)),
                ('reason', models.TextField(blank=True)),
                ('effective_on', models.DateField(blank=True, null=True)),
                ('version', models.PositiveIntegerField()),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('changed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='records.patient')),
                ('practice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='practices.practice')),
            ],
            options={
                'indexes': [models.Index(fields=['patient', '-changed_at'], name='identity_change_by_patient')],
            },
        ),
    ]
