"""A user's model: find its recurrent layers and capture what each receives (capture.py), load a
.keras/.h5 file safely and make or read its inputs (files.py), and check every recurrent layer on
what it really received (check_model.py: `rp.check_model`). Imports no framework at import time."""
