"""`python -m lens_fast` runs the `lens-fast` command."""

from lens_fast.cli.main import main

main()
