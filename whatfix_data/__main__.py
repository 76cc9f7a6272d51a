"""Entry point for `python -m whatfix_data`."""

import sys

from whatfix_data.cli import main

sys.exit(main())
