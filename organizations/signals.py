"""Signals the ground floor sends so that the security log (administration/, above every app) records them.

Nothing here imports that app: a sender only describes what happened; the receiver writes the log.
"""

from django.dispatch import Signal

# The jurisdiction door refused someone. Arguments: user, outcome ("not_found" for a 404, "not_allowed"
# for a 403) and what (a short text naming the object or organisation).
jurisdiction_refused = Signal()

# Anything else the security log must hold (an export, a download, a full personal number shown).
# Arguments: kind (administration.models.EventKind value), actor, description, outcome ("success",
# "failure" or "refused"), and optionally obj (the row concerned) and request.
security_event = Signal()
