"""The directorate's back office: Django's admin organised by the work (calls, screening, review, decisions,
funding, people, system), not by the apps that hold the models. Part of the roof: it may name every app."""
