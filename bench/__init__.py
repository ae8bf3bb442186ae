"""Performance figures. `make bench` runs `python -m bench`, which runs every bench script."""
