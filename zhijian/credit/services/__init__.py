"""Writes of the quality-credit module, one module per sub-area:

records.py    credit records (from domain events and by hand), penalties, commitments
rating.py     the class of each entity: re-rating on events, the nightly batch
blacklist.py  the serious-dishonesty list and credit repair
measures.py   joint punishment measures, credit checks, service tokens
"""
