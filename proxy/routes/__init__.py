"""The proxy's route groups, one Chalice blueprint each, registered by ``proxy.app``."""
