"""The crm servicer's methods by use case, each a mixin over `common.ServicerBase`:
`directory` (the directory, history import, the connection and webhooks),
`leads` (a lead's intake, reading, moves and reopening), `pool` (the pool,
claims and the activity limits count), `assignments` (by hand, one or a batch),
`events` (the event stream). services/crm/server.py composes them and builds
the server. These modules import the crm's own stores and leadrouter, never
server.py or another service.
"""
