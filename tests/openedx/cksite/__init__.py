"""The XBlock SDK workbench, set up to run the Open edX SCORM XBlock for the tests.

This package runs in `tests/openedx/.venv` (see tests/openedx/requirements.txt), never in
the main venv: `python -m django runserver` with DJANGO_SETTINGS_MODULE=cksite.settings.
"""
