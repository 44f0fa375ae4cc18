"""What the record tells the services built on it, without knowing them.

``consultation_recorded`` is sent inside the transaction that saved a consultation,
with ``encounter``, ``actor`` and ``origin`` — what the consultation was started from,
as the page received it (``"appointment:42"``), or "" when started from the chart. The
agenda listens to link the appointment and mark it seen; a receiver that raises undoes
the consultation with it.
"""

from django.dispatch import Signal

consultation_recorded = Signal()
