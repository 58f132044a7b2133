"""What drives the project as a user would, shared by the tests, the benchmarks and the screenshot scripts:
servers on free ports and their processes (``servers``, ``processes``), HTTP load (``loadgen``, ``apps``),
headless Chromium (``browser``) and the pages driven through it (``flask_page``, ``gradio_page``), a
throw-away PostgreSQL (``postgres``), and the tests' own helpers (``support``).
"""
