# Map viewports filter cases by a lon/lat box (live case map, the case list's bbox filter):
# without an index each viewport scanned the whole case table (bench/load.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_caseevent_step_due_at'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['lon', 'lat'], name='case_lon_lat'),
        ),
    ]
