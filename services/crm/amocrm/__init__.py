"""The amoCRM API v4 backend of the crm service: client, sync, webhooks, outbox."""
