"""The browser harness itself: a local page loads and outside requests are blocked."""

from browser import serve, watch


def test_local_page_loads_and_external_request_is_blocked(page, tmp_path):
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>t</title><h1>hello</h1>"
        '<img src="https://example.org/x.png" alt="x">',
        encoding="utf-8",
    )
    with serve(tmp_path) as base:
        seen = watch(page)
        page.goto(f"{base}/index.html")
        assert page.locator("h1").inner_text() == "hello"
    assert seen.external_requests == ["https://example.org/x.png"]
