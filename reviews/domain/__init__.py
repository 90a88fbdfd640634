"""The rules of peer review, one module per concept: conflicts, assignment, scoring, panel, screening, evaluation; ``mail`` queues their messages."""
