"""The rules of funding, one module per concept: awards and tranches, acceptance, reports, spending; ``mail`` queues their messages."""
