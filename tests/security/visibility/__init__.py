"""The visibility table by read path family (contract.md, section 2).

`world` holds the account every cell is asked of, the roles and the verdict;
`queries`, `drilldowns` (one item by its id), `subscriptions` and `exports`
each hold the probes of their family and its rows. The test that asks every
cell is tests/security/test_visibility.py. Imports only tests' own helpers.
"""
