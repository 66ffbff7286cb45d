"""tests/bot/rasa_venv/ imports Rasa itself: it runs in .venv/rasa (test_rasa_venv.py starts it
there from the knowledge venv), never collected where Rasa is not installed."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("rasa") is not None else ["rasa_venv/*"]
