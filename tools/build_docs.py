#!/usr/bin/env python
"""Build the docs site into docs/ from the notebooks, without Quarto.

    python tools/build_docs.py            # HTML into docs/ (open docs/index.html, or serve docs/)
    python tools/build_docs.py --strict   # also fail on warnings (a module that cannot be imported, ...)

Pipeline:
1. nbdev's own processing, `nbdev.serve.proc_nbs` (what `nbdev-docs` feeds Quarto): hidden and
   exported cells removed, `show_doc` cells added and run, the `# Title` / `> summary` cell turned
   into front matter. Output in _proc/.
2. A small converter for what Quarto would read from those notebooks: the front matter becomes the
   page title and lead paragraph, cell options become myst-nb tags (`echo: false` -> remove-input,
   `output: false` -> remove-output, `include: false` -> cell dropped, `code-fold` -> hide-input),
   Quarto callouts become MyST admonitions, links between notebooks point at the built pages.
   show_doc entries are fixed (`fix_showdoc_md`): each heading carries the anchor nbdev's doc links use
   (`ppo.html#ppoagent.predict`), the source link names the defining line (found with `inspect` on the
   installed package; nbdev's ends in `#LNone`), signatures lose `__main__.` and the package's module
   paths, a `*` in a docstring stays a star, absolute paths of this machine are shortened. A class's
   public methods that its chapter does not document get their show_doc under the class. Every other
   anchor nbdev's doc links point at (private helpers, whose code nbdev hides) is placed where the
   name is defined.
3. Sphinx with myst-nb (execution off: every output is the one committed in the notebook) and the
   furo theme, configured in tools/docs_conf/. Pages keep Quarto's names (00_sim.ipynb -> sim.html).
   The navigation is nbdev's sidebar (the one Quarto would show); an API reference page is made with
   nbdev's `show_doc` from the installed package. MathJax is served from the site (npm's
   mathjax@3, fetched by tools/setup.sh), so the pages load nothing from the network; the build
   fails if any page would. The theme's additions (docs_conf/_static/simscaleai.css and .js): a wider
   content column; equations, code and tables wider than it scroll with a visible scroll bar (display
   math is first shrunk to 80% at most, to fit); figures open enlarged on a click.

Every notebook nbdev sees (nbs/**.ipynb, `_`-prefixed ones skipped) becomes a page; a notebook that
nbdev cannot process is still rendered (without its show_doc output) with a warning on the page.
Notebooks are never executed.
"""
import argparse, contextlib, datetime, html.parser, importlib, inspect, io, json, os, re, shutil
import subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONF_DIR = HERE/'docs_conf'
MATHJAX_VERSION = '3.2.2'
# The MathJax 3 components the site loads (see conf.py). Only these are copied: the combined
# bundles and the speech-rule engine carry CDN addresses, these do not.
MATHJAX_PARTS = ['startup.js', 'core.js', 'input/tex-full.js', 'output/chtml.js', 'output/chtml/fonts/tex.js',
                 'output/chtml/fonts/woff-v2']

# The public API of the spec (reinforcement-learning.md), module by module, in reading order.
SPEC_API = {
    'simscaleai.sim': ['make_env'],
    'simscaleai.rl.rewards.rewards': ['RewardFunction', 'DistanceReward', 'SuccessBonus', 'ActionPenalty',
                                      'CompositeReward'],
    'simscaleai.rl.agents.ppo': ['PPOConfig', 'ActorCritic', 'RolloutBuffer', 'PPOAgent'],
    'simscaleai.rl.evaluator': ['EvalConfig', 'evaluate_policy'],
}

# Resource loads from another host (these would make the site depend on the network).
CDN_RE = re.compile(r'(?:https?:)?//(?:[\w-]+\.)*(?:jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|'
                    r'googleapis\.com|gstatic\.com|jquery\.com|bootstrapcdn\.com|mathjax\.org|'
                    r'cloudflare\.com|rawgit(?:hub)?\.com|polyfill\.io|plot\.ly|cdn\.[\w.-]+)', re.I)
EXTERNAL_RE = re.compile(r'^\s*(?:https?:)?//', re.I)

WARNINGS = []

def warn(msg):
    "Print a build warning (collected for --strict and for the summary)."
    WARNINGS.append(msg)
    print(f'WARNING: {msg}', file=sys.stderr, flush=True)

def log(msg): print(f'[build_docs] {msg}', flush=True)

# ---------------------------------------------------------------- notebooks and navigation

def find_notebooks(cfg):
    "Every notebook nbdev renders: nbs/**.ipynb without `_`/`.`-prefixed files or folders."
    from nbdev.doclinks import nbglob
    return sorted(Path(p).resolve() for p in nbglob(cfg.nbs_path))

def sidebar(cfg):
    "The sidebar Quarto would show: nbs/sidebar.yml when custom, else what `nbdev_sidebar` generates."
    import yaml
    custom = cfg.nbs_path/'sidebar.yml'
    if cfg.get('custom_sidebar', False) and str(cfg.custom_sidebar).lower() not in ('false', '0') and custom.exists():
        text = custom.read_text()
    else:
        from nbdev.quarto import nbdev_sidebar
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf): nbdev_sidebar(path=str(cfg.nbs_path), printit=True, force=True)
        text = buf.getvalue()
    data = yaml.safe_load(text) or {}
    return ((data.get('website') or {}).get('sidebar') or {}).get('contents') or []

def process_notebooks(cfg, notebooks, n_workers, fallback_dir):
    """Run nbdev's docs processing into _proc/. A notebook it cannot process is processed again without
    running code, into `fallback_dir` (never into nbdev's cache). Returns (cache, {rel: (path, error)})."""
    from nbdev.serve import proc_nbs
    try:
        return proc_nbs(str(cfg.nbs_path), n_workers=n_workers), {}
    except Exception as e:
        warn(f'nbdev processing failed ({type(e).__name__}); processing notebooks one at a time to find which')
    cache, failed = cfg.config_path/'_proc', {}
    for nb in notebooks:
        try: proc_nbs(str(cfg.nbs_path), n_workers=0, file_re='^'+re.escape(nb.name)+'$')
        except Exception as e:
            rel = nb.relative_to(cfg.nbs_path)
            lines = [l for l in str(e).splitlines() if l.strip()]
            why = lines[0] + (f' ... {lines[-1]}' if len(lines) > 1 else '') if lines else type(e).__name__
            warn(f'{rel}: nbdev cannot process it for the docs ({why}); rendered without its show_doc output')
            process_without_showdoc(nb, fallback_dir/rel)
            failed[rel] = (fallback_dir/rel, why)
    return cache, failed

def process_without_showdoc(src, dst):
    "nbdev's processing minus the step that runs code (`exec_show_docs`)."
    from fastcore.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults, exec_show_docs
    class NoExec(FilterDefaults):
        def base_procs(self): return [p for p in super().base_procs() if p is not exec_show_docs]
    os.environ['IN_TEST'] = '1'
    try:
        nb = read_nb(src)
        NoExec()(nb)
        dst.parent.mkdir(parents=True, exist_ok=True)
        write_nb(nb, dst)
    finally: os.environ.pop('IN_TEST', None)

# ---------------------------------------------------------------- the Quarto -> myst-nb converter

_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_FENCE_OPEN = re.compile(r'^(\s*)(:{3,})\s*\{([^}]*)\}\s*$')
_FENCE_CLOSE = re.compile(r'^(\s*)(:{3,})\s*$')
_CALLOUTS = {'note': 'note', 'tip': 'tip', 'warning': 'warning', 'important': 'important', 'caution': 'caution'}
_SOURCE_LINK = re.compile(r'\[([^\]]+)\]\((https?://[^)\s]+)\)\{target="_blank"[^}]*\}')
_PAGE_LINK = re.compile(r'\]\(([A-Za-z0-9_\-]+)\.html(#[^)\s]*)?\)')
_NB_LINK = re.compile(r'\]\(([^)\s#]+\.ipynb)(#[^)\s]*)?\)')
_INDEX_FILE_LINK = re.compile(r'\]\(nbs/([^)\s#]+\.(?:png|jpe?g|gif|svg|webp|mp4|webm))\)', re.I)
_WARNING_CELL = '<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->'

def split_directives(source):
    "Leading `#| key: value` lines of a code cell -> (options, remaining source)."
    import yaml
    lines, opts, i = source.splitlines(), {}, 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            if lines[i].strip(): break
            i += 1; continue
        key, val = m.group(1), m.group(2)
        try: val = yaml.safe_load(val) if val else True
        except Exception: pass
        opts[key] = val
        i += 1
    return opts, '\n'.join(lines[i:]).strip('\n')

def convert_fenced_divs(md):
    "Quarto/pandoc fenced divs (`::: {.callout-note}`) -> MyST colon fences; other divs keep their content."
    lines = md.split('\n')
    if not any(_FENCE_OPEN.match(l) for l in lines): return md
    stack, pairs = [], []            # pairs: (open_idx, close_idx, depth)
    for i, l in enumerate(lines):
        if _FENCE_OPEN.match(l): stack.append(i)
        elif _FENCE_CLOSE.match(l) and stack: pairs.append((stack.pop(), i, len(stack)))
    if not pairs: return md
    maxd = max(d for _, _, d in pairs)
    out = list(lines)
    for o, c, d in pairs:
        indent, _, attrs = _FENCE_OPEN.match(lines[o]).groups()
        colons = ':'*(3 + maxd - d)  # MyST needs an outer fence longer than the ones inside it
        classes = [a[1:] for a in attrs.split() if a.startswith('.')]
        title = re.search(r'title="([^"]*)"', attrs)
        kind = next((_CALLOUTS[c[8:]] for c in classes if c.startswith('callout-') and c[8:] in _CALLOUTS), None)
        if kind:
            out[o] = f'{indent}{colons}{{{kind}}}' if not title else f'{indent}{colons}{{admonition}} {title.group(1)}\n{indent}:class: {kind}'
            out[c] = f'{indent}{colons}'
        else: out[o] = out[c] = None         # a layout div: keep the content, drop the fences
    return '\n'.join(l for l in out if l is not None)

def convert_markdown(md, rel_dir, pages):
    "Markdown of a cell or output: callouts, show_doc's source links, links to other notebooks."
    md = _SOURCE_LINK.sub(lambda m: f'<a class="showdoc-source" href="{m.group(2)}" target="_blank" rel="noopener">{m.group(1)}</a>', md)
    md = convert_fenced_divs(md)
    def nb_link(m):
        target, anchor = m.group(1), m.group(2) or ''
        if EXTERNAL_RE.match(target) or target.startswith('/'): return m.group(0)
        key = os.path.normpath(os.path.join(rel_dir, target)).replace(os.sep, '/')
        if key not in pages and target.startswith('nbs/'):   # index.ipynb is also README.md: its links start at the repo root
            key = os.path.normpath(target[len('nbs/'):]).replace(os.sep, '/')
        if key not in pages: return m.group(0)
        return '](' + os.path.relpath(pages[key] + '.ipynb', rel_dir or '.').replace(os.sep, '/') + anchor + ')'
    md = _NB_LINK.sub(nb_link, md)
    def page_link(m):                        # `page.html#anchor`, as nbdev/Quarto authors write links between chapters
        name, anchor = m.group(1), m.group(2) or ''
        rel = next((r for r, n in pages.items() if n == name), None)
        if rel is None: return m.group(0)
        return '](' + os.path.relpath(name + '.ipynb', rel_dir or '.').replace(os.sep, '/') + anchor + ')'
    md = _PAGE_LINK.sub(page_link, md)
    if not rel_dir: md = _INDEX_FILE_LINK.sub(r'](\1)', md)   # README-relative files under nbs/ (images), as seen from the docs root
    return md

_ATTACHMENT = re.compile(r'!\[([^\]]*)\]\(attachment:([^)\s]+)\)')

def inline_attachments(md, attachments):
    "Images attached to a markdown cell (`![alt](attachment:name)`), which myst-nb cannot read, as inline <img> data URIs."
    def img(m):
        data = attachments.get(m.group(2))
        if not data: return m.group(0)
        mime = next(iter(data))
        return f'<img alt="{html.escape(m.group(1))}" src="data:{mime};base64,{"".join(data[mime]).strip()}">'
    return _ATTACHMENT.sub(img, md)

def title_cell(meta):
    "The front matter nbdev made of `# Title` + `> summary`, as a page title and lead paragraph."
    src = f"# {meta.get('title', '').strip()}\n"
    if meta.get('description'): src += f"\n{{.lead}}\n{str(meta['description']).strip()}\n"
    return src

def _definitions_at(source_nb, proc_nb):
    """Names the source notebook's code cells define, keyed by the id of the processed cell they end up
    before (nbdev drops exported cells from the docs, keeping the other cells' ids)."""
    kept = {c.get('id') for c in proc_nb.cells if c.get('id')}
    res, pending = {}, []
    for c in source_nb.cells:
        if c.cell_type == 'code':
            src = c.source if isinstance(c.source, str) else ''.join(c.source)
            pending += _defined_names(split_directives(src)[1])
        if c.get('id') in kept and pending:
            res.setdefault(c.get('id'), []).extend(pending); pending = []
    if pending: res[None] = pending           # after the last cell
    return res

def convert_notebook(nb, rel, pages, note=None, symbols=None, modules=(), source_nb=None):
    """A notebook processed by nbdev -> a notebook myst-nb renders as Quarto would. With `symbols`, its
    show_doc entries are fixed (see `fix_showdoc_md`), a class's public methods that the chapter does not
    document get their show_doc under the class, and every anchor nbdev's doc links use exists."""
    import nbformat, yaml
    rel_dir = '' if str(Path(rel).parent) == '.' else str(Path(rel).parent)
    cells, has_title = [], False
    seen, documented, classes, defs = set(), set(), [], []   # anchor ids; names with show_doc; (cell, cls, name, level); (pos, names)
    def_at = _definitions_at(source_nb, nb) if symbols is not None and source_nb is not None else {}
    for cell in nb.cells:
        if cell.get('id') in def_at: defs.append((len(cells), def_at[cell.get('id')]))
        src = cell.get('source', '')
        if isinstance(src, list): src = ''.join(src)
        if cell.cell_type == 'raw' and src.lstrip().startswith('---') and not has_title:
            meta = yaml.safe_load(src.strip().strip('-')) or {}
            if meta.get('title'):
                cells.append(nbformat.v4.new_markdown_cell(title_cell(meta))); has_title = True
            continue
        if cell.cell_type == 'markdown':
            if src.strip() == _WARNING_CELL: continue
            cell.source = inline_attachments(convert_markdown(src, rel_dir, pages), cell.get('attachments') or {})
            cell.pop('attachments', None)
            cells.append(cell)
            continue
        if cell.cell_type != 'code':
            cells.append(cell); continue
        opts, code = split_directives(src)
        if str(opts.get('include', True)).lower() == 'false': continue
        tags = list(cell.metadata.get('tags', []))
        outputs = cell.get('outputs', [])
        if str(opts.get('warning', True)).lower() == 'false':
            outputs = [o for o in outputs if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
        if str(opts.get('output', True)).lower() == 'false': outputs = []
        is_showdoc = bool(re.match(r'\s*show_doc\(', code))
        for o in outputs:
            data = o.get('data', {})
            data.pop('application/vnd.jupyter.widget-view+json', None) if 'text/plain' in data else None
            if 'text/markdown' in data:
                md = data['text/markdown']
                md = ''.join(md) if isinstance(md, list) else md
                if md.lstrip().startswith('---\n'): md = md.lstrip()[4:]   # show_doc's rule: not allowed in an output
                if is_showdoc and symbols is not None:
                    arg = re.match(r'\s*show_doc\(\s*([\w.]+)', code)
                    md, name, obj = fix_showdoc_md(md, symbols, modules, seen, fallback=arg and arg.group(1))
                    if name:
                        documented.add(name)
                        if inspect.isclass(obj) and str(getattr(obj, '__module__', '')).split('.')[0] == symbols.lib:
                            level = len(_HEADING.search(md).group(1))
                            classes.append((data, obj, name, level))
                data['text/markdown'] = convert_markdown(md, rel_dir, pages)
        cell.outputs = outputs
        if not code.strip() and not outputs: continue
        if str(opts.get('echo', True)).lower() == 'false' or not code.strip(): tags.append('remove-input')
        elif 'code-fold' in opts and str(opts['code-fold']).lower() != 'false':
            tags.append('hide-input')
            if str(opts['code-fold']).lower() == 'show': tags.append('code-fold-show')
            summary = str(opts.get('code-summary', 'Code'))
            cell.metadata['mystnb'] = {'code_prompt_show': summary, 'code_prompt_hide': summary}
        cell.source = code
        if re.match(r'\s*show_doc\(', code): tags.append('showdoc')
        if tags: cell.metadata['tags'] = list(dict.fromkeys(tags))
        cells.append(cell)
    if symbols is not None:
        # a class's public methods, documented under it when the chapter has no show_doc of them
        for data, cls, name, level in classes:
            extra = [render_show_doc(getattr(cls, a) if not isinstance(vars(cls)[a], property) else vars(cls)[a],
                                     f'{name}.{a}', min(level + 1, 6), symbols, modules, seen)
                     for a in documentable_members(cls) if f'{name}.{a}' not in documented]
            if extra: data['text/markdown'] += '\n\n' + '\n\n'.join(convert_markdown(m, rel_dir, pages) for m in extra)
        # anchors nbdev's doc links point at (`page.html#name`) that no show_doc heading carries: at the
        # cell that defines the name, else at the top of the page
        page_url = pages.get(rel, Path(rel).stem) + '.html'
        remaining = set(symbols.anchors.get(page_url, set())) - seen
        inserts = []
        if None in def_at: defs.append((len(cells), def_at[None]))
        for pos, names in defs:
            ids = {anchor_id(n) for n in names} & remaining
            if ids: inserts.append((pos, ids)); remaining -= ids
        for pos, ids in reversed(inserts): cells.insert(pos, _anchor_cell(ids))
        first = next((i for i, c in enumerate(cells) if c.cell_type == 'markdown' and c.source.lstrip().startswith('# ')), None)
        shift = 0 if first is None else first + 1
        if remaining:
            log(f'{rel}: no definition found for doc-link anchors {sorted(remaining)}; placed at the top of the page')
            cells.insert(shift, _anchor_cell(remaining))
    if not has_title:
        first = next((c for c in cells if c.cell_type == 'markdown'), None)
        if first is None or not first.source.lstrip().startswith('# '):
            name = re.sub(r'^\d+[a-z]?_', '', Path(rel).stem).replace('_', ' ').capitalize()
            cells.insert(0, nbformat.v4.new_markdown_cell(f'# {name}\n'))
    if note:
        cells.insert(1, nbformat.v4.new_markdown_cell(f':::{{warning}}\n{note}\n:::\n'))
    keep = {'code': {'cell_type', 'execution_count', 'id', 'metadata', 'outputs', 'source'},
            'markdown': {'cell_type', 'id', 'metadata', 'source', 'attachments'},
            'raw': {'cell_type', 'id', 'metadata', 'source', 'attachments'}}
    for c in cells:                      # nbdev's processors leave private keys (has_sd, idx_, ...)
        for k in [k for k in c if k not in keep.get(c.cell_type, c.keys())]: del c[k]
        c.metadata.pop('execution', None)
    nb.cells = cells
    nb.metadata.pop('widgets', None)
    nb.metadata.setdefault('language_info', {'name': 'python', 'pygments_lexer': 'ipython3'})
    nb.metadata.setdefault('kernelspec', {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'})
    return nb

def page_name(proc_nb, rel):
    "Docname of a notebook: Quarto's output file (front matter `output-file`), in the notebook's folder."
    import nbformat, yaml
    nb = nbformat.read(proc_nb, as_version=4)
    out = None
    for c in nb.cells[:2]:
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            out = (yaml.safe_load(c.source.strip().strip('-')) or {}).get('output-file')
    if out: stem = Path(out).stem
    else:                                # nbdev's own name (what its doc links use): numeric prefix off, lower case
        from nbdev.doclinks import nbpath2html
        stem = Path(nbpath2html(Path(rel).name)).stem
    parent = Path(rel).parent
    return str(parent/stem).replace(os.sep, '/') if str(parent) != '.' else stem

# ---------------------------------------------------------------- API reference

def _modidx():
    try:
        from simscaleai._modidx import d
        return d.get('syms', {})
    except Exception: return {}

def exported_modules(cfg, notebooks, pages):
    "{module: page} from each notebook's `#| default_exp` (a package's `x.__init__` counts as `x`)."
    import nbformat
    res = {}
    for nb in notebooks:
        rel = str(nb.relative_to(cfg.nbs_path)).replace(os.sep, '/')
        for c in nbformat.read(nb, as_version=4).cells:
            m = c.cell_type == 'code' and re.search(r'^\s*#\|\s*default_exp\s+(\S+)', c.source, re.M)
            if m:
                res[re.sub(r'\.__init__$', '', f'{cfg.lib_name}.{m.group(1)}')] = pages[rel]; break
    return res

def api_reference(cfg, pages_by_url, module_pages, symbols):
    "Markdown of the API reference: nbdev's show_doc for every public symbol, from the installed package."
    syms = _modidx()
    seen, where = set(), {}             # anchor ids on the page; id(object) -> where it is documented
    others = (set(syms) | set(module_pages)) - set(SPEC_API)
    modules = list(SPEC_API) + sorted(m for m in others if not m.endswith('._modidx'))
    out = ['# API reference\n',
           '{.lead}\nEvery public class and function, documented by nbdev\'s `show_doc` from the installed '
           '`simscaleai` package. Each module\'s chapter has the derivations, examples and tests.\n']
    n_docs = 0
    for modname in modules:
        out.append(f'## {modname}\n')
        try: mod = importlib.import_module(modname)
        except Exception as e:
            warn(f'API reference: cannot import {modname} ({type(e).__name__}: {e}); its symbols are left out')
            out.append(f':::{{warning}}\n`{modname}` could not be imported when this site was built, so its '
                       f'symbols are missing here '
                       f'(`{type(e).__name__}: {e}`).\n:::\n')
            continue
        entry = next(iter(syms.get(modname, {}).values()), None)
        page = module_pages.get(modname) or (pages_by_url.get(entry[0].split('#')[0]) if entry else None)
        if page: out.append(f'Chapter: {{doc}}`/{page}`\n')
        names = list(SPEC_API.get(modname, []))
        names += [n for n in getattr(mod, '__all__', []) if n not in names and not n.startswith('_')]
        absent = [n for n in names if getattr(mod, n, None) is None]
        if absent:
            warn(f'API reference: {modname} has no {", ".join(absent)}')
            out.append(f':::{{warning}}\nMissing from `{modname}` when this site was built: '
                       + ', '.join(f'`{n}`' for n in absent) + '.\n:::\n')
        consts = [n for n in names if getattr(mod, n, None) is not None and not callable(getattr(mod, n))]
        for name in names:
            obj = getattr(mod, name, None)
            if obj is None or name in consts: continue
            if id(obj) in where:            # re-exported by a second module: documented once
                out.append(f'`{name}`: documented under {where[id(obj)]}.\n'); continue
            where[id(obj)] = f'`{modname}`'
            out.append(render_show_doc(obj, name, 3, symbols, [modname], seen) + '\n'); n_docs += 1
            if inspect.isclass(obj):
                for attr in documentable_members(obj):
                    val = vars(obj)[attr]
                    out.append(render_show_doc(val if isinstance(val, property) else getattr(obj, attr),
                                               f'{name}.{attr}', 4, symbols, [modname], seen) + '\n')
        if consts:
            out.append('### Constants\n')
            out += [f'- `{n}`: {_describe(getattr(mod, n), symbols.base)}' for n in consts]
            out.append('')
            n_docs += len(consts)
    return '\n'.join(out), n_docs

def _describe(value, base=None):
    "One line for a module constant: its type and a short repr, without the build machine's paths."
    shape = getattr(value, 'shape', None)
    kind = type(value).__name__ + (f' of shape {tuple(shape)}' if shape is not None else '')
    r = scrub_paths(repr(value).replace('\n', ' '), base)
    r = re.sub(r'\s+', ' ', r)
    return f'{kind}, `{r[:117] + "..." if len(r) > 120 else r}`'

_ABS_PATH = re.compile(r"(?<![\w.:/])/(?:tmp|home|work|root|Users|var|opt|private|mnt|srv|build|usr)/[^\s'\"`)\]},]*")

def scrub_paths(text, base=None):
    """Absolute paths of the machine that built the site -> a path that means something to a reader:
    inside the package `.../simscaleai/sim/assets`, anything else `.../last/two`."""
    if base:
        text = text.replace(str(base) + os.sep, '.../')
    def short(m):
        parts = [p for p in m.group(0).split('/') if p]
        return '.../' + '/'.join(parts[-2:])
    return _ABS_PATH.sub(short, text)

# ---------------------------------------------------------------- show_doc output: anchors, source links, leaks

_HEADING = re.compile(r'^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$', re.M)
_ANY_SOURCE_LINK = re.compile(r'^[ \t]*(?:\[source\]\([^)\s]*\)(?:\{[^}]*\})?|<a class="showdoc-source"[^>]*>source</a>)[ \t]*\n?', re.M)
_FENCE = re.compile(r'^```[^\n]*\n(.*?)^```[ \t]*$', re.M | re.S)

def anchor_id(name):
    "The anchor nbdev's doc links use for a symbol (`PPOAgent.predict` -> `ppoagent.predict`)."
    return name.strip().replace('\\', '').lower()

class Symbols:
    """The package's documented names: resolved by import (from the module a page exports, then every
    module nbdev indexed, then the package itself), with a source link computed from the installed file
    (nbdev's own link ends in `#LNone` for fully qualified names) and the anchors other pages link to."""
    def __init__(self, cfg):
        self.lib = cfg.lib_name
        self.git_url, self.branch = (cfg.get('git_url', '') or '').rstrip('/'), cfg.get('branch', 'main') or 'main'
        self.syms = _modidx()
        self.modules = [m for m in self.syms if not m.endswith('._modidx')]
        try: self.base = Path(importlib.import_module(self.lib).__file__).resolve().parent.parent
        except Exception: self.base = None
        self.anchors = {}                       # page url ('ppo.html') -> anchor ids doc links point at
        for entries in self.syms.values():
            for url, *_ in entries.values():
                page, _, frag = str(url).partition('#')
                if frag: self.anchors.setdefault(page, set()).add(frag)

    def resolve(self, name, modules=()):
        name = name.strip().replace('\\', '')
        if not re.fullmatch(r'[A-Za-z_][\w.]*', name): return None
        for modname in dict.fromkeys([*modules, *self.modules, self.lib]):
            try: obj = importlib.import_module(modname)
            except Exception: continue
            for part in name.split('.'):
                try: obj = inspect.getattr_static(obj, part) if inspect.isclass(obj) else getattr(obj, part)
                except AttributeError: obj = None; break
            if obj is not None: return obj
        return None

    def source(self, obj):
        "GitHub link to the line that defines `obj` in the installed package, or None."
        if isinstance(obj, property): obj = obj.fget
        if isinstance(obj, (staticmethod, classmethod)): obj = obj.__func__
        if type(obj).__name__ == '_clsmethod': obj = obj.f      # fastcore's @patch(cls_method=True) descriptor
        try:
            obj = inspect.unwrap(obj)
            path = Path(inspect.getsourcefile(obj)).resolve()
            line = inspect.getsourcelines(obj)[1]
            rel = path.relative_to(self.base)
        except Exception: return None
        if not self.git_url or not line: return None
        return f'{self.git_url}/blob/{self.branch}/{rel.as_posix()}#L{line}'

def _escape_stars(text):
    "Escape `*` outside code spans, so that a `*args` in a docstring cannot start or end emphasis."
    parts = re.split(r'(`+[^`]*`+)', text)
    return ''.join(p if i % 2 else re.sub(r'(?<!\\)\*', r'\\*', p) for i, p in enumerate(parts))

def clean_signature(code, lib):
    "Type annotations without `__main__.` (nbdev runs the notebook there) or the package's module path."
    out = []
    for line in code.split('\n'):
        m = re.search(r'\s#\s', line)
        head, tail = (line[:m.start()], line[m.start():]) if m else (line, '')
        head = re.sub(r'\b__main__\.', '', head)
        if lib: head = re.sub(rf'\b{re.escape(lib)}(?:\.[a-z_][a-z0-9_]*)*\.(?=[A-Za-z_])', '', head)
        out.append(head + tail)
    return '\n'.join(out)

def fix_showdoc_md(md, symbols, modules=(), seen=None, obj=None, fallback=None):
    """One show_doc entry (nbdev's Markdown): an anchor with nbdev's id on its heading, a source link
    with a real line number (or none), a signature without `__main__.`, the docstring's `*` kept literal.
    Returns (markdown, documented name, resolved object)."""
    md = md.replace('\n---\n', '\n').lstrip('-\n ')
    h = _HEADING.search(md)
    if not h: return re.sub(r'\b__main__\.', '', md), None, None
    name = h.group(2).strip().strip('`')
    if obj is None: obj = symbols.resolve(name, modules)
    if obj is None and fallback: obj = symbols.resolve(fallback, modules)   # show_doc(x, name='...')
    md = scrub_paths(_ANY_SOURCE_LINK.sub('', md), symbols.base)
    h = _HEADING.search(md)
    lead = ''
    aid = anchor_id(name)
    from docutils.nodes import make_id
    if aid in (make_id(name), re.sub(r'[^\w\- ]', '', name.lower()).replace(' ', '-')):
        if seen is not None: seen.add(aid)     # the heading's section already has this id
    elif seen is None or aid not in seen:
        lead += f'<span class="showdoc-anchor" id="{html_escape(aid)}"></span>'
        if seen is not None: seen.add(aid)
    url = symbols.source(obj) if obj is not None else None
    if url: lead += f'<a class="showdoc-source" href="{html_escape(url)}" target="_blank" rel="noopener">source</a>'
    md = md[:h.start()] + (lead + '\n\n' if lead else '') + md[h.start():]
    f = _FENCE.search(md)
    if f:
        md = md[:f.start(1)] + clean_signature(f.group(1), symbols.lib) + md[f.end(1):]
        f = _FENCE.search(md)
        rest = md[f.end():]
        d = re.match(r'(\s*\n)([ \t]*)\*(.+)\*[ \t]*(?=\n|$)', rest)   # fastcore puts the first docstring line in *...*
        if d: rest = f'{d.group(1)}{d.group(2)}*{_escape_stars(d.group(3))}*' + rest[d.end():]
        md = md[:f.end()] + rest
    md = re.sub(r'\b__main__\.', '', md)
    return md, name, obj

def html_escape(s):
    import html
    return html.escape(str(s), quote=True)

def documentable_members(cls):
    "Public methods and properties a class defines itself (not inherited), in definition order."
    res = []
    for attr, val in vars(cls).items():
        if attr.startswith('_'): continue
        if isinstance(val, (staticmethod, classmethod)): val = val.__func__
        if inspect.isfunction(val) or isinstance(val, property): res.append(attr)
    return res

def render_show_doc(obj, name, level, symbols, modules=(), seen=None):
    "nbdev's show_doc of `obj` as fixed Markdown (or a short note when it fails)."
    from nbdev.showdoc import show_doc
    try: md = show_doc(obj, name=name, title_level=level)._repr_markdown_()
    except Exception as e:
        warn(f'show_doc({name}) failed ({type(e).__name__}: {e})')
        return f'{"#"*level} {name}\n\n*(show_doc failed: `{type(e).__name__}`)*\n'
    return fix_showdoc_md(md, symbols, modules, seen, obj=obj)[0]

def _defined_names(code):
    "Names a code cell defines (functions, classes, their methods; nbdev's `@patch` as `Class.method`)."
    import ast
    from nbdev.showdoc import showdoc_nm
    try: tree = ast.parse(code)
    except SyntaxError: return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            try: names += list(showdoc_nm(node)) if isinstance(showdoc_nm(node), (list, tuple)) else [showdoc_nm(node)]
            except Exception: names.append(node.name)
            if isinstance(node, ast.ClassDef):
                names += [f'{node.name}.{b.name}' for b in node.body
                          if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return [str(n) for n in names]

def _anchor_cell(ids):
    import nbformat
    spans = ''.join(f'<span class="showdoc-anchor" id="{html_escape(i)}"></span>' for i in sorted(ids))
    c = nbformat.v4.new_markdown_cell(f'<div class="doc-anchors">{spans}</div>')
    c.metadata['tags'] = ['anchors']
    return c

# ---------------------------------------------------------------- MathJax, site checks

def mathjax_dir():
    "The unpacked npm mathjax@3 package that tools/setup.sh fetched."
    env = os.environ.get('SIMSCALEAI_MATHJAX')
    cache = Path(os.environ.get('XDG_CACHE_HOME') or Path.home()/'.cache')/'simscaleai'/f'mathjax-{MATHJAX_VERSION}'/'package'
    d = Path(env) if env else cache
    if not (d/'es5'/'startup.js').exists():
        sys.exit(f'MathJax {MATHJAX_VERSION} not found at {d}: run `bash tools/setup.sh` (it unpacks npm\'s '
                 f'mathjax@{MATHJAX_VERSION} there), or set SIMSCALEAI_MATHJAX to an unpacked mathjax@3 package.')
    return d

def copy_mathjax(dest):
    src = mathjax_dir()/'es5'
    for part in MATHJAX_PARTS:
        s, d = src/part, dest/part
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir(): shutil.copytree(s, d)
        else: shutil.copy2(s, d)

class _Loads(html.parser.HTMLParser):
    "Collect the URLs a page makes the browser fetch."
    LOAD = {'script': ['src'], 'img': ['src', 'srcset'], 'source': ['src', 'srcset'], 'video': ['src', 'poster'],
            'audio': ['src'], 'iframe': ['src'], 'embed': ['src'], 'object': ['data'], 'track': ['src']}
    def __init__(self):
        super().__init__(); self.urls = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in self.LOAD.get(tag, []):
            if a.get(k): self.urls.append(a[k])
        if tag == 'link' and a.get('href') and (a.get('rel') or '').lower() not in ('canonical', 'alternate', 'author', 'license', 'help', 'next', 'prev', 'index', 'search', 'bookmark'):
            self.urls.append(a['href'])

def check_offline(out):
    "Fail when any page or asset would load something from another host."
    problems = []
    for f in sorted(out.rglob('*')):
        if not f.is_file() or f.suffix not in ('.html', '.js', '.css', '.json'): continue
        text = f.read_text(errors='replace')
        if f.suffix == '.html':
            p = _Loads(); p.feed(text)
            problems += [f'{f.relative_to(out)}: loads {u[:100]}' for u in p.urls if EXTERNAL_RE.match(u)]
        if f.suffix == '.css':
            problems += [f'{f.relative_to(out)}: loads {u[:100]}' for u in re.findall(r'url\(\s*[\'"]?((?:https?:)?//[^)\'"]+)', text)]
        problems += [f'{f.relative_to(out)}: CDN address {m.group(0)[:100]}' for m in CDN_RE.finditer(text)]
    return problems

def localize_doc_links(out, base_url):
    "Links nbdev made to the published site (doc_host + doc_baseurl) -> the same page in this build."
    if not base_url: return
    base = base_url.rstrip('/') + '/'
    for f in out.rglob('*.html'):
        text = f.read_text()
        if base not in text: continue
        prefix = '../' * (len(f.relative_to(out).parts) - 1)
        f.write_text(text.replace(f'href="{base}', f'href="{prefix}'))

# ---------------------------------------------------------------- main

def build(root, out=None, strict=False, n_workers=2):
    t0 = time.time()
    root = Path(root).resolve()
    os.chdir(root)
    sys.path.insert(0, str(root))
    os.environ.setdefault('MUJOCO_GL', 'egl')
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml
    cfg = get_config(str(root))
    out = Path(out).resolve() if out else Path(cfg.doc_path).resolve()
    work = root/'build'/'docs'
    src, doctrees = work/'src', work/'doctrees'

    refresh_quarto_yml()       # nbs/nbdev.yml and nbs/_quarto.yml, exactly as nbdev-docs would (for Quarto)
    notebooks = find_notebooks(cfg)
    if not notebooks: sys.exit(f'no notebooks found in {cfg.nbs_path}')
    log(f'{len(notebooks)} notebooks: ' + ', '.join(str(n.relative_to(cfg.nbs_path)) for n in notebooks))

    shutil.rmtree(work, ignore_errors=True)
    cache, failed = process_notebooks(cfg, notebooks, n_workers, work/'fallback')
    log(f'nbdev processing done ({time.time()-t0:.0f}s)')

    # page names (Quarto's), then convert
    rels = [str(n.relative_to(cfg.nbs_path)).replace(os.sep, '/') for n in notebooks]
    pages, taken = {}, set()
    procs = {rel: failed[Path(rel)][0] if Path(rel) in failed else cache/rel for rel in rels}
    for rel in rels:
        proc = procs[rel]
        if not proc.exists(): sys.exit(f'{rel}: nbdev produced no processed notebook at {proc}')
        name = page_name(proc, rel)
        if name in taken or name in ('api', 'genindex', 'search'):
            name = str(Path(rel).with_suffix('')).replace(os.sep, '/')
        pages[rel] = name; taken.add(name)

    src.mkdir(parents=True)
    shutil.copytree(CONF_DIR, src, dirs_exist_ok=True)
    import nbformat
    symbols = Symbols(cfg)
    module_pages = exported_modules(cfg, notebooks, pages)
    page_modules = {}
    for mod, page in module_pages.items(): page_modules.setdefault(page, []).append(mod)
    for rel, name in pages.items():
        nb = nbformat.read(procs[rel], as_version=4)
        note = None
        if Path(rel) in failed:
            note = ('This page was built without its API documentation: nbdev could not process the notebook '
                    f'for the docs:\n\n```text\n{failed[Path(rel)][1][:600]}\n```')
        nb = convert_notebook(nb, rel, pages, note, symbols, page_modules.get(name, []),
                              nbformat.read(cfg.nbs_path/rel, as_version=4))
        dest = src/(name + '.ipynb')
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    # images and other files the notebooks refer to (nbdev copied them into _proc as well)
    for f in cfg.nbs_path.rglob('*'):
        rel = f.relative_to(cfg.nbs_path)
        if (f.is_file() and not any(p.startswith(('.', '_')) for p in rel.parts)
                and f.suffix.lower() in ('.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.mp4', '.webm', '.pdf')):
            (src/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, src/rel)

    pages_by_url = {name + '.html': name for name in pages.values()}
    api_md, n_docs = api_reference(cfg, pages_by_url, module_pages, symbols)
    (src/'api.md').write_text(api_md)
    log(f'API reference: {n_docs} public symbols')

    # navigation: nbdev's sidebar as toctrees on the index page
    index_rel = next((r for r in rels if pages[r] == 'index'), None)
    toctrees, listed = [], set()
    def entries(items, caption):
        docs, subs = [], []
        for it in items:
            if isinstance(it, str):
                key = it.replace(os.sep, '/')
                if key in pages:
                    if pages[key] != 'index': docs.append(pages[key])
                    listed.add(key)
                else: warn(f'sidebar entry {it} is not a notebook; only notebooks are rendered')
            elif isinstance(it, dict) and 'section' in it:
                name = str(it['section']).replace('_', ' ').replace('-', ' ').title()
                sect = list(it.get('contents') or [])
                if it.get('href'): sect.insert(0, it['href'])
                subs.append((sect, f'{caption} / {name}' if caption else name))
            elif isinstance(it, dict) and it.get('href') in pages:
                docs.append(pages[it['href']]); listed.add(it['href'])
            else: warn(f'sidebar entry {it!r} not understood; skipped')
        if docs: toctrees.append((caption, docs))
        for sect, cap in subs: entries(sect, cap)
    entries(sidebar(cfg), '')
    missing = [r for r in rels if r not in listed and pages[r] != 'index']
    if missing:
        warn(f'not in the sidebar, added under "More": {", ".join(missing)}')
        toctrees.append(('More', [pages[r] for r in missing]))
    toctrees.append(('Reference', ['api']))
    toc_md = '\n'.join(f'```{{toctree}}\n:hidden:\n:titlesonly:\n' + (f':caption: {cap}\n' if cap else '')
                       + '\n' + '\n'.join(docs) + '\n```\n' for cap, docs in toctrees)
    index = src/'index.ipynb'
    if index.exists():
        nb = nbformat.read(index, as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell(toc_md))
        nbformat.write(nb, index)
    else:
        warn('no nbs/index.ipynb: a minimal home page is generated')
        (src/'index.md').write_text(f'# {cfg.title}\n\n{cfg.get("description", "")}\n\n{toc_md}')

    copy_mathjax(src/'_static'/'mathjax')
    version = getattr(importlib.import_module(cfg.lib_name), '__version__', '') if cfg.lib_name else ''
    author = cfg.get('author', '') or cfg.get('copyright', '') or cfg.title
    (src/'_site.json').write_text(json.dumps(dict(
        title=cfg.title, description=cfg.get('description', ''), version=str(version), author=author,
        copyright=f'{datetime.date.today().year}, {author}', repo_url=cfg.get('git_url', ''),
        branch=cfg.get('branch', 'main'),
        sources={name: f'{cfg.nbs_path.relative_to(root).as_posix()}/{rel}' for rel, name in pages.items()})))

    # Sphinx
    html_dir = work/'html'       # built inside work/ (myst-nb puts jupyter_execute/ beside it), then moved
    warn_file = work/'sphinx-warnings.txt'
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-j', str(max(1, n_workers)), '--keep-going',
           '-d', str(doctrees), '-w', str(warn_file), str(src), str(html_dir)]
    log('sphinx: ' + ' '.join(cmd[2:]))
    r = subprocess.run(cmd)
    if r.returncode: sys.exit(f'sphinx-build failed (exit {r.returncode})')
    sphinx_warnings = [l for l in warn_file.read_text().splitlines() if 'WARNING' in l or 'ERROR' in l] if warn_file.exists() else []
    for l in sphinx_warnings: WARNINGS.append(l)
    if out.exists(): shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(html_dir), str(out))

    localize_doc_links(out, (cfg.get('doc_host', '') or '') + (cfg.get('doc_baseurl', '') or ''))
    (out/'.nojekyll').touch()

    # every notebook has its page; nothing loads from the network
    lost = [f'{rel} -> {name}.html' for rel, name in pages.items() if not (out/(name + '.html')).exists()]
    if lost: sys.exit('notebooks without a page: ' + ', '.join(lost))
    problems = check_offline(out)
    if problems: sys.exit('the site would load from the network:\n  ' + '\n  '.join(problems[:30]))
    (out/'_pages.json').write_text(json.dumps({'notebooks': {r: n + '.html' for r, n in pages.items()},
                                               'api': 'api.html', 'failed': {str(k): v[1] for k, v in failed.items()}},
                                              indent=1))
    log(f'{len(pages)} notebook pages + API reference ({n_docs} symbols) in {out} '
        f'({time.time()-t0:.0f}s, {len(WARNINGS)} warnings)')
    if strict and WARNINGS: sys.exit(f'--strict: {len(WARNINGS)} warnings')
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--strict', action='store_true', help='fail on any warning')
    ap.add_argument('--out', help='output folder (default: doc_path from pyproject.toml, i.e. docs/)')
    ap.add_argument('--root', default=str(HERE.parent), help='project root (default: this repository)')
    ap.add_argument('--workers', type=int, default=2, help='processes for nbdev processing and Sphinx')
    a = ap.parse_args()
    build(a.root, a.out, a.strict, a.workers)
