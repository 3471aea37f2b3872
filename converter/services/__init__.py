"""Every database write, status transition and enqueue of the converter, one
module per concern. Callers import the module they need:

- ``projects``: projects and a person's default project
- ``access_keys``: API keys: create, revoke, authenticate
- ``metering``: frame estimates, the monthly quota, usage records
- ``submission``: new tasks from an upload or an API request
- ``lifecycle``: every status change, through one conditional update
- ``queueing``: RQ jobs of conversions: ids, timeouts, (re)queueing
- ``deliveries``: completion messages and their attempts
- ``conversion``: a task's run in the worker
- ``removal``: a person's delete, share-link revoke and renew, and retry of a task
"""
