from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("realtime", "0006_direct_rooms"),
    ]

    operations = [
        migrations.AddField(
            model_name="pricepoint",
            name="volume",
            field=models.BigIntegerField(default=0),
        ),
    ]
