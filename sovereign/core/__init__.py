"""Vocabulary and I/O every layer uses: labels, errors, YAML and schema reading, time, paths, exemptions."""
