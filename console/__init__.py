"""The officials' intranet console: documents of the knowledge base (list, upload, delete,
correct metadata) and the questions citizens asked (filter, export). Also serves the citizens'
web widget (``bot/widget``) and its demo portal page.

Run it from the knowledge venv: ``.venv/kb/bin/python -m console --port 8080``; users are added
with ``python -m console add-user NAME --role editor``.
"""
