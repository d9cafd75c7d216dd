"""`python -m fitdoctor.cli`: the `fitdoctor` command."""

from fitdoctor.cli import main

main()
