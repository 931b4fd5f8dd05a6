"""From what the user has (DataFrames, files, formulas, statsmodels results) to a design."""
