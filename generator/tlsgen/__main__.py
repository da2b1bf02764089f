import sys

from tlsgen.cli import main

sys.exit(main())
