"""Exports of a workshop or a value chain (XLSX, CSV, open data, JSON, PDF) and imports.

Every table comes from the activity kinds through the registry's contract
(``ActivityType.export_tables``): the writers here never know a kind's name.
"""
