"""Patterns with known behaviour, for the regex probe's own test (never used by the product)."""

import re

# The number pattern the NLU tokenizer had: tried again from every digit of a long run.
QUADRATIC = re.compile(r"\d[\w.,]*(?:[/-][\w.]+)+")
LINEAR = (re.compile(r"\d+(?:[.,]\d+)*%?"), re.compile(r"[\w&]+|[^\w\s]+"))
NOT_A_PATTERN = r"\d[\w.,]*(?:[/-][\w.]+)+"  # a string: probed only when named module:ATTR
BYTES_LINEAR = re.compile(rb"%PDF-\d+\.\d+")  # bytes patterns get the inputs' UTF-8 bytes
