"""The report as data (results, report, coefficient table) and its renderers."""
