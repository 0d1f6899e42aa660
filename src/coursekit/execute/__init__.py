"""Running notebooks: the book's execution settings, the worker pool that fills
jupyter-cache, and the kernel runner every notebook loop uses."""
