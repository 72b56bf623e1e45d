"""Domain vocabulary of the seed design: enums, identifiers, URNs. No I/O here."""
