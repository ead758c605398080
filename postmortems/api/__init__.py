"""/api/v1/postmortems/ and /api/v1/action-items/ (see ``views`` and ``urls``)."""
