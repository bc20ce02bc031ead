def test_django_starts(settings):
    assert "library" in settings.INSTALLED_APPS
