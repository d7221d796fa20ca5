"""``python -m allsh_sklearn.labelstudio PROJECT ...``: ``allsh-label labelstudio``."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
