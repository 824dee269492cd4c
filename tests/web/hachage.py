"""Argon2 for the tests: the same algorithm and stored format (``argon2$argon2id$…``), with a cost light enough to
create a few accounts per test in milliseconds. The application's hasher is Django's Argon2PasswordHasher, with
its default cost; the tests that start ``clausier`` in a process of its own use it."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 256
    parallelism = 1
