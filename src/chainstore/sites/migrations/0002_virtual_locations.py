from django.db import migrations

VIRTUAL = ["supplier", "customer", "transit", "adjustment", "scrap"]


def create_virtual_locations(apps, schema_editor):
    Location = apps.get_model("sites", "Location")
    for kind in VIRTUAL:
        Location.objects.get_or_create(
            site=None, kind=kind,
            defaults={"code": f"VIRTUAL/{kind.upper()}", "is_virtual": True, "name": kind},
        )


class Migration(migrations.Migration):
    dependencies = [("sites", "0001_initial")]
    operations = [migrations.RunPython(create_virtual_locations, migrations.RunPython.noop)]
