"""Sphinx configuration for the SimScaleAI docs site.

`tools/build_docs.py` copies this folder into the generated Sphinx source tree, next to the
processed notebooks and `_site.json` (title, description, repository; read from pyproject.toml).
Notebooks are never executed here: every output comes from the notebooks as committed.
"""
import json
from pathlib import Path

site = json.loads((Path(__file__).parent/'_site.json').read_text())

project = site['title']
author = site['author']
copyright = site['copyright']
version = release = site['version']

extensions = ['myst_nb']

# Notebooks: rendered from their committed outputs, never run.
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'   # show_doc's Markdown output: code fences, math, tables
nb_output_stderr = 'show'
nb_ipywidgets_js = {}                # no widget manager from a CDN; widget views fall back to text
nb_mime_priority_overrides = [('html', 'application/vnd.jupyter.widget-view+json', None),
                              ('html', 'application/vnd.jupyter.widget-state+json', None)]
nb_merge_streams = True

myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'attrs_block', 'attrs_inline',
                          'deflist', 'html_image']
myst_heading_anchors = 3
myst_dmath_double_inline = True

source_suffix = {'.ipynb': 'myst-nb', '.md': 'myst-nb'}
exclude_patterns = ['_build', '**.ipynb_checkpoints', '_site.json']
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']

# MathJax 3 served from the site itself (copied into _static/mathjax by the build), loaded as
# separate components so that no part of it refers to a CDN.
mathjax_path = 'mathjax/startup.js'
mathjax3_config = {
    'loader': {'load': ['input/tex-full', 'output/chtml']},
    'tex': {'inlineMath': [['\\(', '\\)']], 'displayMath': [['\\[', '\\]']]},
}

html_theme = 'furo'
html_title = site['title']
html_static_path = ['_static']
html_css_files = ['simscaleai.css']
html_js_files = ['simscaleai.js']
html_copy_source = False             # notebooks carry base64 videos: do not ship them twice
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {'top_of_page_buttons': ['view']}


def _view_link(app, pagename, templatename, context, doctree):
    "The 'view this page' button opens the page's notebook in the repository (pages are renamed as Quarto does)."
    src = site['sources'].get(pagename)
    if src and site['repo_url']: context['theme_source_view_link'] = f"{site['repo_url']}/blob/{site['branch']}/{src}"
    else: context['page_source_suffix'] = ''      # generated pages: no button


def setup(app):
    app.connect('html-page-context', _view_link)
html_favicon = '_static/favicon.svg'
