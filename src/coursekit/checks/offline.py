"""CK310: what a page would fetch from the network, known before anything is built.

An image given by URL (`![chart](https://…/chart.png)`, `{image}`, `{figure}`,
`<img src>`) is not part of the site: offline, and in an LMS whose content policy
forbids outside requests, the learner sees a broken image. It is a warning (the
book builds, and the build's `outside-requests.txt` lists it again by page); the fix
is to download the file into the book and point to the copy. What Sphinx or a
notebook's outputs add (scripts, styles, fonts) is only known once the site is
built, so the build's offline report lists it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from urllib.parse import urlsplit

from coursekit.findings import Finding, make
from coursekit.model import Course

REMOTE = ("http://", "https://", "//")


def remote_images(course: Course) -> Iterator[Finding]:
    """CK310 (warning): an image the page loads from a URL instead of the book."""
    for page in course.pages:
        for link in page.markup.links if page.markup else ():
            target = link.target.strip()
            if not link.image or not target.lower().startswith(REMOTE):
                continue
            line, col = page.where(link.pos)
            name = posixpath.basename(urlsplit(target).path) or "image.png"
            local = posixpath.relpath(f"images/{name}", posixpath.dirname(page.path) or ".")
            where = "" if local == f"images/{name}" else f", {local} from this page"
            msg = (
                f"image {target!r} is loaded from the network: offline, and in an LMS that "
                f"blocks outside content, the site and the packages show it broken; download "
                f"it into the book (e.g. images/{name}) and point to the copy{where}"
            )
            yield make("CK310", page.path, line, col, msg)


CHECKS = (remote_images,)
