"""mediahub's bulk uploader: files and folders into a mediahub library over its JSON API.

It talks HTTP only (the site's API and the storage URLs the site signs) and imports nothing of the server, so it
installs on its own (`pip install ./mediahub_cli`) with `requests` and `tqdm`.
"""

__version__ = "0.1.0"
