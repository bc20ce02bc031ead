def test_registry_has_ping():
    from common.registry import registry

    assert "system.health.ping" in registry.actions
