import sys

from snndsl.cli import main

sys.exit(main())
