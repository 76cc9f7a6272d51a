"""One module per CLI command: `register(subparsers)` (sets `run`), `run(args) -> int`."""
