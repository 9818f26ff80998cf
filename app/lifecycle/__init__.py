"""The lifecycle. Domain core: `workflow`, `clocks`, `deadlines`, `history`, `attachments`.
Pages and work queues (features): `views`, `forms`, `queries`; `conflicts` is shared page plumbing."""
