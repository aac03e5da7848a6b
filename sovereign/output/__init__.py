"""Report formats: how check, diff and reach results are written (text, JSON, SARIF, JUnit, Markdown)."""
