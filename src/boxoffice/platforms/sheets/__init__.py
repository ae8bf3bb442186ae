"""Event sources for `track`: a Google Sheet (gspread), a CSV file, a sheet's CSV export URL."""
