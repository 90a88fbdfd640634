"""The rules of funding, one module per concept: awards and tranches, reports, spending."""
