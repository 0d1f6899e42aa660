"""The package stages: the SCORM and cmi5 zips, made from the staged site.

Each is written again only when the site or what the packages read from the
course changed (the shared key of `coursekit.build.stages`); the zips are
deterministic, so the ones kept are the bytes a cold build would write. Every
zip's files are deflated once, for all of them, in `_build/.cache/zip/`.
"""

from __future__ import annotations

import hashlib

from coursekit.build.book_stage import site_of
from coursekit.build.context import BuildContext
from coursekit.build.stages import Stage
from coursekit.build.workfiles import packaging_files, read_bytes, tools_key

DEFLATE_CACHE = ".cache/zip"  # each site file deflated once, for every zip


def package_key(ctx: BuildContext) -> str:
    """What the zips are made of: the site, the packaging files of the course, coursekit."""
    site = site_of(ctx)
    digest = hashlib.sha256(f"{site.change.digest}\n{tools_key()}".encode())
    for rel in sorted(packaging_files(ctx.course)):
        digest.update(rel.encode())
        digest.update(read_bytes(ctx.root / rel))
    return digest.hexdigest()


def package_scorm(ctx: BuildContext) -> None:
    """The SCORM 1.2 and 2004 zips (coursekit.packages.scorm)."""
    from coursekit.packages.scorm import package

    site = site_of(ctx)
    package(
        ctx.course,
        site.html_dir,
        ctx.outputs.stage("scorm"),
        cache_dir=ctx.out_dir / DEFLATE_CACHE,
    )


def package_cmi5(ctx: BuildContext) -> None:
    """The cmi5 zip (coursekit.packages.cmi5); with `coursekit.cmi5.enabled: false`, the
    published `cmi5/` is an empty folder."""
    from coursekit.packages.cmi5 import package

    site = site_of(ctx)
    package(
        ctx.course, site.html_dir, ctx.outputs.stage("cmi5"), cache_dir=ctx.out_dir / DEFLATE_CACHE
    )


SCORM = Stage(
    "scorm",
    package_scorm,
    produces=("scorm",),
    needs=("book",),
    key=package_key,
    phase=60,
    timer="package",
    fails_alone=True,
    help="SCORM 1.2 and 2004 zips of the site (one per module too)",
)
CMI5 = Stage(
    "cmi5",
    package_cmi5,
    produces=("cmi5",),
    needs=("book",),
    key=package_key,
    phase=60,
    timer="package",
    fails_alone=True,
    help="the cmi5 zip of the site",
)
