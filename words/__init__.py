"""Words for people, shared by the API's pages and the e-mails: the gettext catalogs (`catalogs.py`) and money,
dates and numbers per locale (`formats.py`). Imports only domain/, so the activities may use it as the API does."""
