"""The PDF: the print edition's single page (`stage`), printed by Chromium
(`chromium`), its bookmarks repaired (`outline`)."""
