"""The ``sovereign`` command: validate, render, check, diff and reach, offline."""
