"""Command-line interface (placeholder, filled in below)."""


def main(argv=None):
    raise SystemExit("fastmf CLI is not built yet")
