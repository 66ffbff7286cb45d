"""Vietnamese text handling: Unicode normalisation, diacritics, abbreviations, segmentation."""
