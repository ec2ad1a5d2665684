"""Domain of Kooperationsbörse: tables, settings and the service functions over them.

Both `bot/` and `matching/` import this package; it imports neither.
"""
