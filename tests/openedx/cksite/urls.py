"""The SDK's URLs, with the SCORM scenarios of the tests registered first.

The XBlock's own canned scenario uses the tag `<openedxscorm/>`, which is not its
entry point (`scorm`), so the SDK cannot load it: we register ours instead, one
block per scenario (each page has a single `window.API`, so one block per page).
"""

import os
from unittest.mock import Mock

from workbench import runtime, scenarios

SCENARIOS = int(os.environ.get("CK_OPENEDX_SCENARIOS", "12"))


def _register() -> None:
    scenarios.SCENARIOS.clear()
    runtime.WORKBENCH_KVS.prep_for_scenario_loading()
    for number in range(SCENARIOS):
        scenarios.add_xml_scenario(f"ck-{number}", f"coursekit SCORM {number}", "<scorm/>")
    scenarios.get_scenarios.initialized = True


def _patch_location() -> None:
    """Give the workbench's Mock `block.location` a real `block_id`.

    The upload looks for an old-style folder named after `location.block_id`; the
    SDK's Mock has none that os.path.join accepts. The usage id is unique per block.
    """
    patch = runtime.WorkbenchRuntime._patch_xblock

    def patched(self, block):  # type: ignore[no-untyped-def]
        patch(self, block)
        block.location = Mock(
            html_id=Mock(return_value="course-v1:edX+Demo+2020"),
            block_id=str(block.scope_ids.usage_id),
        )

    runtime.WorkbenchRuntime._patch_xblock = patched


def _patch_proxy_urls() -> None:
    """Workbench handler URLs end in "?student=…"; the XBlock appends asset paths to
    its `assets_proxy` URL (the links of its navigation menu), which breaks them.
    The proxy serves package files, the same for every learner: give it a bare URL."""
    handler_url = runtime.WorkbenchRuntime.handler_url

    def patched(self, block, handler_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        url = handler_url(self, block, handler_name, *args, **kwargs)
        return url.split("?", 1)[0] if handler_name == "assets_proxy" else url

    runtime.WorkbenchRuntime.handler_url = patched


_register()
_patch_location()
_patch_proxy_urls()

from workbench.urls import urlpatterns  # noqa: E402  (after the scenarios are in place)

__all__ = ["urlpatterns"]
