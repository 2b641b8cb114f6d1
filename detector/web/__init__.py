"""The local web page for the discipline office (`chachong serve`): scan, compare, history and archive pages, and a JSON API."""
