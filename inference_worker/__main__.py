import sys

from inference_worker.cli import main

sys.exit(main())
