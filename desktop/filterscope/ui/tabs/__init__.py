"""One module per tab; app.py lists them in its tab registry."""
