"""The ``filterscope`` command line: one module per job family, shared helpers in ``common``."""
