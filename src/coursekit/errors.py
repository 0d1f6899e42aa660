"""The exception tree. The CLI catches `CourseKitError` once and prints it cleanly."""


class CourseKitError(Exception):
    """Root of every error a user can cause; never shown with a traceback."""

    exit_code = 1


class UsageError(CourseKitError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class CourseError(CourseKitError):
    """The course cannot be used as it is (bad files, failed checks)."""


class BuildError(CourseKitError):
    """A build stage failed; the message names the file and what to do."""
