"""The rules of funding, one module per concept: decisions and the reserve list, awards and tranches, acceptance, reports, spending; ``mail`` queues their messages."""
