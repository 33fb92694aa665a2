"""Write README.md from nbs/index.ipynb without Quarto.

nbdev's own processing (`proc_nbs`: hidden cells removed, directives applied, front matter
extracted) followed by nbconvert's Markdown exporter. `--check` fails when README.md is stale.
"""
import argparse, difflib, sys, tempfile
from pathlib import Path

import nbformat, yaml
from nbconvert import MarkdownExporter
from nbdev.config import get_config
from nbdev.serve import proc_nbs

def render_readme() -> str:
    "README text rendered from the processed index notebook."
    cfg = get_config()
    cache = proc_nbs(cfg.nbs_path, file_glob=cfg.readme_nb, n_workers=0)
    nb = nbformat.read(cache/cfg.readme_nb, as_version=4)
    header = []
    cells = []
    for cell in nb.cells:
        src = cell.source.strip()
        if cell.cell_type == 'raw' and src.startswith('---'):  # front matter from the title cell
            meta = yaml.safe_load(src.strip('-')) or {}
            if meta.get('title'): header.append(f"# {meta['title']}\n")
            if meta.get('description'): header.append(f"> {meta['description']}\n")
            continue
        cells.append(cell)
    nb.cells = cells
    body, _ = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True).from_notebook_node(nb)
    text = "\n".join(header) + "\n" + body.strip() + "\n"
    while "\n\n\n" in text: text = text.replace("\n\n\n", "\n\n")
    return text

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--check', action='store_true', help='fail if README.md differs from the notebook')
    args = ap.parse_args()
    readme = get_config().config_path/'README.md'
    text = render_readme()
    if args.check:
        old = readme.read_text() if readme.exists() else ''
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), 'README.md', 'from nbs/index.ipynb'))
            sys.exit('README.md is stale: run `python tools/make_readme.py` and commit it.')
        print('README.md is current.')
    else:
        readme.write_text(text)
        print(f'wrote {readme}')
