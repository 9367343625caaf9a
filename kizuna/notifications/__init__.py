"""One inbox for every module: notifications of the consultation cycle, watch-filter matches of the threat exchange,
and whatever a later module tells its users; their e-mail (one message each, or a daily digest) and mark-read.

A notification names its record only by ``module`` and ``ref``; the module that owns the record registers a resolver
(``kizuna.notifications.registry``) that says which refs the reader may see now and what an entry says. This app
imports no domain module: they register with it."""
