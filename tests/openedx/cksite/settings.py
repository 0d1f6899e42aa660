"""Workbench settings for the SCORM tests: the SDK's own, with what running outside
edx-platform needs. Nothing here changes how the SCORM XBlock tracks a learner.

CK_OPENEDX_VAR (set by the pytest fixture) is a temporary folder for the database,
the log and the extracted packages, so nothing is written into the repository.
"""

import os

from workbench.settings import *  # noqa: F403  (the SDK's settings, then our changes)
from workbench.settings import INSTALLED_APPS, LOGGING

VAR = os.environ["CK_OPENEDX_VAR"]

# django-pyfs (the SDK's "fs" service) is not installed: the SCORM XBlock stores its
# packages through Django's default storage, and nothing in these tests uses pyfs.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "djpyfs"]
WORKBENCH = {
    "reset_state_on_restart": False,
    "services": {"settings": "workbench.services.SettingsService"},
}

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(VAR, "workbench.db")}
}
LOGGING["handlers"]["logfile"]["filename"] = os.path.join(VAR, "workbench.log")

# The extracted packages, served by Django's static() view (the SDK's urls add it with DEBUG).
MEDIA_ROOT = os.path.join(VAR, "media")
MEDIA_URL = "/media/"

ROOT_URLCONF = "cksite.urls"

# Workbench handler URLs carry "?student=…", which breaks the XBlock's asset proxy
# (the asset path gets the query glued on); serve the files from storage instead.
XBLOCK_SETTINGS = {"ScormXBlock": {"PROXY_ASSETS_LMS": False}}
