"""Reports for leadership: the monthly and quarterly figures, their charts, CSV and mail.

- ``figures``: the one home of time to detect, acknowledge and resolve (SQL and per incident).
- ``periods``: months and quarters, and the time zone their boundaries are drawn in.
- ``definitions``: what each figure means, printed beside it.
- ``build``: ``build_report(period)``, every figure by SQL aggregates in a fixed number of
  queries; ``trend``: the months before it in one grouped query.
- ``serialize`` (the API's answer), ``api``, ``export`` (CSV), ``charts`` (matplotlib SVG),
  ``text`` (figures in words), ``mail`` and ``tasks`` (the monthly e-mail), ``permissions``
  (the ``view_reports`` verb), ``urls``.
"""
