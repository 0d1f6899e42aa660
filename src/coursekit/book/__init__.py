"""The book stage: a book engine turns the loaded course into a website.

`engine.py` is the interface the build uses; `sphinx/` is the Jupyter Book 1.x engine
(Sphinx, its extensions, the offline assets, the accessibility fixes, the print
edition's single page).
"""
