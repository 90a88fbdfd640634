"""The pages of a long list: the links to the page before and after, shown by ``components/pagination.html``."""


def page_links(request, page) -> dict[str, str]:
    """The addresses of the pages before and after ``page`` (a ``django.core.paginator.Page``), only those that
    exist: the request's own query (the filters, the sort) with its ``page`` changed, so moving to another page
    keeps what the list shows."""
    links = {}
    if page.has_previous():
        links["previous"] = _with_page(request, page.previous_page_number())
    if page.has_next():
        links["next"] = _with_page(request, page.next_page_number())
    return links


def _with_page(request, number: int) -> str:
    params = request.GET.copy()
    params["page"] = number
    return f"?{params.urlencode()}"
