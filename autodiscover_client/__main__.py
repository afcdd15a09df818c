"""``python -m autodiscover_client`` runs the command line."""

from autodiscover_client._cli import main

raise SystemExit(main())
