"""The service's HTTP rules, one module per concern, each rule in one place.

- ``limits``: every number a client can run into (body size, answer size, deadlines, ...);
- ``identity``: who is asking, decided once, by real authentication;
- ``throttles``: request rates, per client address and per account;
- ``bodies``: what a client may send (size, chunked bodies, deadlines, the JSON parser);
- ``cache``: the one-second shared copy of anonymous reads, and gzip for JSON;
- ``errors``: JSON answers for every status under /api/.
"""
