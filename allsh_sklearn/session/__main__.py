"""``python -m allsh_sklearn.session`` runs the ``allsh-label`` command."""

from ._cli import console_main

if __name__ == "__main__":
    console_main()
