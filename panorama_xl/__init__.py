"""panorama-xl: a yearly spreadsheet survey of the applications of the French departmental councils.

The three stages are ``template`` (write the questionnaire), ``check`` and
``collect`` (read the returned workbooks and report what to fix) and
``consolidate`` (write the coordinator's master workbook).
"""

__version__ = "0.1.0"
