"""The use cases under both faces of the API: the JSON routes and the HTML pages call the same functions.

Each module is one use case, a plain async function of typed inputs (database session, Temporal client, who acts,
the validated body) that returns the result or raises `ServiceError`: the JSON API answers it as an HTTP error
(api.main), a page shows it beside the form.
"""
