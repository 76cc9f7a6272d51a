"""One module per CLI command; each defines `register(subparsers)` (which sets `run` as default) and `run(args) -> int`."""
