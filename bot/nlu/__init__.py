"""Custom Rasa NLU components (named by their dotted path in ``config.yml``)."""
