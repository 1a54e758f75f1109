"""Real IRC servers for integration tests: configs, fixtures and a scripted peer.

``servers.py`` starts ngIRCd, InspIRCd and InspIRCd + Anope (Debian packages) on
127.0.0.1 with the config templates in this folder; ``fixtures.py`` makes them pytest
fixtures (registered in tests/conftest.py); ``peer.py`` is a raw IRC client on our
reactor that tests script line by line.
"""
