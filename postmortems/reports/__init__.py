"""Reports for leadership: the monthly and quarterly figures, their charts, CSV and mail.
The durations they average are ``postmortems.durations`` (shared with the postmortems and
/metrics).

- ``periods``: months and quarters, and the time zone their boundaries are drawn in.
- ``definitions``: what each figure means, printed beside it.
- ``build``: ``build_report(period)``, every figure by SQL aggregates in a fixed number of
  queries; ``trend``: the months before it in one grouped query.
- ``serialize`` (the API's answer), ``api``, ``export`` (CSV), ``charts`` (matplotlib SVG),
  ``text`` (figures in words), ``mail`` and ``tasks`` (the monthly e-mail), ``permissions``
  (the ``view_reports`` verb), ``urls``.
"""
