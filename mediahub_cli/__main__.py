import sys

from mediahub_cli.cli import main

sys.exit(main())
