from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from library.models import Library, Track

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_run_creates_an_admin_once_and_a_scanned_demo_library(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("first_run", stdout=out)
    text = out.getvalue()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    password = text.split("password: ")[1].split()[0]
    assert admin.check_password(password) and len(password) >= 16
    demo = Library.objects.get(name="Demo")
    assert Track.objects.filter(library=demo).count() == 200
    again = StringIO()
    call_command("first_run", stdout=again)
    assert "password:" not in again.getvalue()
    assert get_user_model().objects.count() == 1 and Library.objects.count() == 1


def test_first_run_without_demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("first_run", "--no-demo", stdout=StringIO())
    assert not Library.objects.exists()
