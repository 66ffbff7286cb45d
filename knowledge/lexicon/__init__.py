"""The vocabulary of Vietnamese administrative documents, each term defined once: document
types and their codes, dates and periods, agencies and roles, indices and programmes,
abbreviations, places. Used by ingest, retrieval and answering alike."""
