"""Check results and their renderings: text, JSON, SARIF 2.1.0, JUnit XML, Markdown."""
