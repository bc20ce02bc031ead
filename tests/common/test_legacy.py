import pytest

from common.legacy import LEGACY_NAMES, rewrite
from common.registry import registry


def test_system_ping_maps_to_the_health_ping():
    assert rewrite("system:ping") == "system.health.ping"


def test_registry_names_pass_through_unchanged():
    assert rewrite("system.health.ping") == "system.health.ping"
    assert rewrite("unknown:thing") == "unknown:thing"


@pytest.mark.parametrize("legacy,name", sorted(LEGACY_NAMES.items()))
def test_every_legacy_name_maps_to_a_registered_action(legacy, name):
    assert ":" in legacy
    assert name in registry.actions
