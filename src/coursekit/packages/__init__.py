"""The outputs made from the built site: SCORM 1.2/2004 (`scorm/`), cmi5 (`cmi5/`)
and the PDF (`pdf/`, printed by Chromium)."""
