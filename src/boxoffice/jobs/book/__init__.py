"""The `book` job: win a Booked/LibreBooking slot at the instant its booking window opens."""
