"""The public status page: component status (``components``), uptime (``uptime``), what the
page, its JSON and its feed may show (``selectors``), signed subscriber links (``tokens``),
and the views. Nothing here reads an internal field: what is public is decided in
``selectors`` and ``components``, and every public response goes through them."""
