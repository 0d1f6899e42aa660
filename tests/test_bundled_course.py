"""The course that ships with coursekit must itself check clean."""

from conftest import run_cli


def test_bundled_course_checks_clean_under_strict(repo):
    result = run_cli("check", "--strict", repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "clean" in result.stderr
