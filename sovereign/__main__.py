"""``python -m sovereign``."""

from sovereign.cli.main import run

if __name__ == "__main__":  # only as a program: importing the module must not run the CLI
    run()
