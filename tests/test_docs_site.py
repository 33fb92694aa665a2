"""The docs site in a real browser.

Builds the site if docs/ is missing or older than the notebooks (`python tools/build_docs.py`),
serves docs/ from 127.0.0.1 on a free port and opens every page in Debian's headless Chromium
(driven by selenium through Debian's chromedriver; nothing is downloaded), at 1280 px and at 400 px
(a phone), scroll bars shown as a reader sees them. Checks: each page loads with no console error,
no failed request and no request leaving this machine; no raw directive text shows; equations are
typeset by MathJax; videos have a duration and play; the sidebar lists every notebook and its links
resolve; every in-site link and #anchor resolves, every source link points at the line that defines
its symbol and every show_doc entry has one; at both widths every display equation, code block and
table fits the content column or scrolls with a visible scroll bar; no page shows a path of the machine
that built it or `__main__.`; no docstring's `*` breaks its italics; figures open enlarged on a click;
search finds pages; the API reference documents the spec's symbols.
Screenshots go to docs/_screenshots/ (paths printed; run pytest with -s to see them).
"""
import html.parser, http.server, importlib, json, os, re, shutil, subprocess, sys, tempfile, threading, time
import urllib.request
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

BUILD = Path(__file__).resolve().parents[1]/'tools'/'build_docs.py'
ROOT = Path(os.environ.get('SIMSCALEAI_DOCS_ROOT') or BUILD.parents[1])   # another project tree: for trying the build
SITE = ROOT/'docs'
NBS = ROOT/'nbs'
SHOTS = SITE/'_screenshots'
CHROMIUM, CHROMEDRIVER = '/usr/bin/chromium', '/usr/bin/chromedriver'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--window-size=1280,900', '--autoplay-policy=no-user-gesture-required']
WIDE, PHONE = 1280, 400        # window widths: a laptop, a phone
SPEC_SYMBOLS = {  # the spec's public API, by the public module it is imported from (wherever it is defined)
    'simscaleai.sim': ['make_env'],
    'simscaleai.rl.rewards.rewards': ['RewardFunction', 'DistanceReward', 'SuccessBonus', 'ActionPenalty', 'CompositeReward'],
    'simscaleai.rl.agents.ppo': ['PPOConfig', 'ActorCritic', 'RolloutBuffer', 'PPOAgent'],
    'simscaleai.rl.evaluator': ['EvalConfig', 'evaluate_policy'],
}
BUILD_PATHS = ['/tmp/', '/work/', '/home/', '/root/', '__main__.']   # what must never show on a page
RAW_TEXT = [re.compile(p, re.M) for p in (r'^```\{', r'^:::+\s*\{', r'\{\.lead\}', r'^#\|', r'^:::\s*$')]


def _notebooks():
    return sorted(p for p in NBS.rglob('*.ipynb')
                  if not any(part.startswith(('_', '.')) for part in p.relative_to(NBS).parts))

def _stale():
    "True when docs/ is missing or older than a notebook or the build's own files."
    stamp = SITE/'_pages.json'
    if not stamp.exists(): return True
    inputs = _notebooks() + [BUILD, *(BUILD.parent/'docs_conf').rglob('*')]
    return max(p.stat().st_mtime for p in inputs if p.is_file()) > stamp.stat().st_mtime

@pytest.fixture(scope='module')
def site():
    if _stale():
        subprocess.run([sys.executable, str(BUILD), '--root', str(ROOT)], cwd=ROOT, check=True)
    pages = json.loads((SITE/'_pages.json').read_text())
    SHOTS.mkdir(exist_ok=True)
    return pages

class QuietServer(http.server.ThreadingHTTPServer):
    "The static server: silent when the browser drops a connection (it does, e.g. while a video loads)."
    daemon_threads = True
    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)): return
        super().handle_error(request, client_address)

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def handle(self):
        try: super().handle()
        except (ConnectionError, TimeoutError): pass      # the browser went away mid-response

@pytest.fixture(scope='module')
def server(site):
    httpd = QuietServer(('127.0.0.1', 0), partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    httpd.shutdown(); httpd.server_close(); thread.join()

@pytest.fixture(scope='module')
def browser():
    for exe in (CHROMIUM, CHROMEDRIVER):
        assert Path(exe).exists(), f'{exe} is missing: run `bash tools/setup.sh` (Debian chromium and chromium-driver)'
    os.environ['SE_OFFLINE'] = 'true'      # selenium never fetches a driver or browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix='simscaleai-chromium-')
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS + [f'--user-data-dir={profile}']: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.get('about:blank'); time.sleep(0.5)            # let the start-up page settle, then forget its logs
    driver.get_log('browser'); driver.get_log('performance')
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, script, what, tries=120):
    "Poll a JS expression until truthy (0.25 s apart); fail naming `what` if it never is."
    for _ in range(tries):
        v = driver.execute_script(script)
        if v: return v
        time.sleep(0.25)
    pytest.fail(f'timed out waiting for {what}')

def _network(driver):
    "Requests of the last page from the performance log: (url, status or error)."
    reqs, failed, urls = [], [], {}
    for entry in driver.get_log('performance'):
        msg = json.loads(entry['message'])['message']
        m, p = msg.get('method'), msg.get('params', {})
        if m == 'Network.requestWillBeSent':
            reqs.append(p['request']['url']); urls[p.get('requestId')] = p['request']['url'][:120]
        elif m == 'Network.responseReceived' and p['response']['status'] >= 400:
            failed.append(f"{p['response']['url']} -> HTTP {p['response']['status']}")
        # a failure of a request this page did not send is an earlier page's (e.g. Chromium's start-up new-tab page)
        elif m == 'Network.loadingFailed' and not p.get('canceled') and p.get('requestId') in urls:
            failed.append(f"{urls.get(p.get('requestId'), p.get('requestId'))} ({p.get('type')}) -> {p.get('errorText')}")
    return reqs, failed

MATH_JS = """
const math = document.querySelectorAll('.math, span.math, div.math').length;
const done = document.querySelectorAll('mjx-container').length;
const errors = document.querySelectorAll('mjx-merror').length;
return {math, done, errors, mathjax: !!(window.MathJax && window.MathJax.startup)};
"""
VIDEO_JS = """
const done = arguments[arguments.length - 1];
const vids = Array.from(document.querySelectorAll('video'));
Promise.all(vids.map(v => new Promise(res => {
  const report = () => res({duration: v.duration, error: v.error && v.error.code, src: (v.currentSrc || '').slice(0, 30)});
  if (v.readyState >= 1) report(); else { v.addEventListener('loadedmetadata', report); v.addEventListener('error', report); v.load(); }
}))).then(async infos => {
  for (let i = 0; i < vids.length; i++) {           // does it play? time must advance
    const v = vids[i]; v.muted = true;
    try { await v.play(); await new Promise(r => setTimeout(r, 400)); infos[i].played = v.currentTime; }
    catch (e) { infos[i].played = 'play() failed: ' + e; }
  }
  done(infos);
});
"""

def _visit(driver, base, path, shot):
    driver.get_log('browser'); driver.get_log('performance')           # drop the previous page's logs
    driver.get(urljoin(base, path))
    _wait(driver, "return document.readyState === 'complete'", f'{path} to load')
    info = {'path': path, 'title': driver.title}
    info['math'] = driver.execute_script(MATH_JS)
    if info['math']['math']:
        _wait(driver, "return window.MathJax && MathJax.startup && MathJax.startup.promise && "
                      "document.querySelectorAll('mjx-container').length > 0", f'MathJax on {path}')
        driver.execute_async_script("MathJax.startup.promise.then(arguments[arguments.length-1])")
        info['math'] = driver.execute_script(MATH_JS)
    info['videos'] = driver.execute_async_script(VIDEO_JS) if driver.execute_script(
        "return document.querySelectorAll('video').length") else []
    info['text'] = driver.execute_script("return document.querySelector('article') ? document.querySelector('article').innerText : ''")
    info['body_text'] = driver.execute_script("return document.body.innerText")
    info['links'] = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    info['overflow'] = _overflow(driver, path)
    info['stray_stars'] = driver.execute_script(STARS_JS)
    info['showdoc_without_source'] = driver.execute_script(
        "return Array.from(document.querySelectorAll('div.cell.tag_showdoc')).filter(c => !c.querySelector('a.showdoc-source'))"
        ".map(c => (c.querySelector('h1,h2,h3,h4,h5,h6') || c).innerText.slice(0, 60))")
    info['images'] = driver.execute_script("return document.querySelectorAll('.cell_output img').length")
    info['sidebar'] = driver.execute_script(
        "return Array.from(document.querySelectorAll('.sidebar-tree a.reference')).map(a => a.href)")
    info['console'] = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    info['requests'], info['failed'] = _network(driver)
    _screenshots(driver, shot)
    return info

def _screenshots(driver, shot):
    "The top of the page, then its first video, its widest equation and its first figure, centred."
    driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    driver.save_screenshot(str(SHOTS/f'{shot}.png'))
    for what, sel in (('video', 'video'), ('math', WIDEST_MATH_JS), ('figure', '.cell_output img')):
        found = driver.execute_script(sel if 'return' in sel else f"return document.querySelector('{sel}')")   # a script or a selector
        if found:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", found)
            time.sleep(0.3)
            driver.save_screenshot(str(SHOTS/f'{shot}-{what}.png'))

WIDEST_MATH_JS = """const w = el => (el.querySelector('mjx-math') || el).getBoundingClientRect().width;
return Array.from(document.querySelectorAll('div.math')).filter(el => el.offsetParent)
  .sort((a, b) => w(b) - w(a))[0] || null;"""

# Blocks that may be wider than the column: each must fit the column, or scroll (overflow-x auto/scroll)
# with a scroll bar that takes room (so it shows; an overlay scroll bar or a hidden one does not count).
OVERFLOW_JS = r"""
const col = document.querySelector('article') || document.body;
const colRight = col.getBoundingClientRect().right;
const sel = 'div.math, div.highlight pre, .table-wrapper, .cell_output .output.text_html, .cell_output pre, .cell_output img, .cell_output video, .cell_output table';
const bad = [];
for (const el of document.querySelectorAll(sel)) {
  if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;     // folded away, not shown
  if (el.closest('details:not([open])')) continue;
  const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
  const what = el.tagName.toLowerCase() + '.' + (el.className || '').toString().split(' ').slice(0, 2).join('.');
  const text = (el.innerText || el.getAttribute('src') || '').replace(/\s+/g, ' ').slice(0, 60);
  // inside a scrolling ancestor (e.g. a table in a scrolling wrapper): that ancestor is checked instead
  let a = el.parentElement, inScroller = false;
  while (a && a !== col) { const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') { inScroller = true; break; } a = a.parentElement; }
  if (!inScroller && r.right > colRight + 1 && r.width > 0) { bad.push(`${what} sticks out of the column by ${Math.round(r.right - colRight)} px: ${text}`); continue; }
  if (el.scrollWidth > el.clientWidth + 1 && !['img', 'video'].includes(el.tagName.toLowerCase())) {
    const scrolls = cs.overflowX === 'auto' || cs.overflowX === 'scroll';
    const bar = el.offsetHeight - el.clientHeight - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
    if (!scrolls) bad.push(`${what} is cut off (${el.scrollWidth} px in ${el.clientWidth} px, overflow-x ${cs.overflowX}): ${text}`);
    else if (bar < 4 || cs.visibility === 'hidden') bad.push(`${what} scrolls without a visible scroll bar (${el.scrollWidth} px in ${el.clientWidth} px): ${text}`);
  }
}
return {bad, column: Math.round(col.getBoundingClientRect().width), mathFitted: document.documentElement.dataset.mathFitted || null};
"""

def _overflow(driver, path):
    if driver.execute_script("return document.querySelector('div.math') !== null"):
        _wait(driver, "return document.documentElement.dataset.mathFitted === '1'", f'simscaleai.js to fit the equations on {path}')
    return driver.execute_script(OVERFLOW_JS)

# fastcore puts a docstring's first line in *...*; a `*` inside it must not end the italics early
STARS_JS = r"""return Array.from(document.querySelectorAll('article p'))
  .map(p => p.innerText.trim()).filter(t => /^\*\S/.test(t) || /\S\*$/.test(t)).slice(0, 5);"""

@pytest.fixture(scope='module')
def visits(site, server, browser):
    "Every page of the site, visited once: {page path: what the browser saw}."
    paths = ['index.html'] + sorted(p for p in site['notebooks'].values() if p != 'index.html') + [site['api']]
    res = {p: _visit(browser, server, p, p[:-5].replace('/', '__')) for p in paths}
    return res

@pytest.fixture(scope='module')
def phone_visits(visits, server, browser):
    "Every page again in a 400 px window (a phone): what overflows, and screenshots."
    browser.get(server); browser.execute_script("localStorage.clear(); sessionStorage.clear()")   # no search highlights
    browser.set_window_size(PHONE, 860)
    try:
        res = {}
        for p in visits:
            browser.get(urljoin(server, p))
            _wait(browser, "return document.readyState === 'complete'", f'{p} to load at {PHONE} px')
            if browser.execute_script("return document.querySelector('div.math') !== null"):
                _wait(browser, "return !!(window.MathJax && MathJax.startup && MathJax.startup.promise)", f'MathJax on {p}')
                browser.execute_async_script("MathJax.startup.promise.then(arguments[arguments.length-1])")
            res[p] = {'overflow': _overflow(browser, p)}
            _screenshots(browser, p[:-5].replace('/', '__') + f'-{PHONE}px')
    finally:
        browser.set_window_size(WIDE, 900)
    print(f'\nscreenshots in {SHOTS}: ' + ', '.join(sorted(f.name for f in SHOTS.glob('*.png'))))
    return res


def test_every_notebook_is_a_page(site):
    rels = {str(p.relative_to(NBS)) for p in _notebooks()}
    assert rels == set(site['notebooks']), f'notebooks vs pages: {sorted(rels ^ set(site["notebooks"]))}'
    for page in site['notebooks'].values(): assert (SITE/page).is_file(), page
    assert not site['failed'], f'nbdev could not process: {site["failed"]}'

def test_pages_load_cleanly(visits, server):
    host = urlparse(server).netloc
    for path, v in visits.items():
        assert v['text'].strip(), f'{path}: empty page'
        assert not v['console'], f'{path}: console errors {v["console"]}'
        assert not v['failed'], f'{path}: failed requests {v["failed"]}'
        offsite = [u for u in v['requests'] if urlparse(u).scheme not in ('data', 'blob', 'about', 'chrome', 'chrome-extension')
                   and urlparse(u).netloc != host]
        assert not offsite, f'{path}: requests leaving this machine {offsite}'
        raw = [r.pattern for r in RAW_TEXT if r.search(v['text'])]
        assert not raw, f'{path}: unrendered markup shows ({raw})'

def test_equations_typeset(visits):
    pages_with_math = {p: v['math'] for p, v in visits.items() if v['math']['math']}
    assert pages_with_math, 'no page has an equation'
    for path, m in pages_with_math.items():
        assert m['mathjax'], f'{path}: MathJax did not load'
        assert m['done'] >= m['math'], f'{path}: {m["math"]} equations, {m["done"]} typeset'
        assert m['errors'] == 0, f'{path}: {m["errors"]} TeX errors'

def _shows_video(nb_path):
    "Does the notebook, as committed, show a video (an HTML output with <video>, in a cell the docs keep)?"
    nb = json.loads(nb_path.read_text())
    for cell in nb['cells']:
        if cell['cell_type'] != 'code': continue
        src = ''.join(cell['source'])
        if re.search(r'^#\|\s*(hide|include:\s*false|output:\s*false)\s*$', src, re.M): continue
        for o in cell.get('outputs', []):
            html = o.get('data', {}).get('text/html', '')
            if '<video' in (''.join(html) if isinstance(html, list) else html): return True
    return False

def test_videos_play(visits, site):
    videos = {p: v['videos'] for p, v in visits.items() if v['videos']}
    with_video = [rel for rel in site['notebooks'] if _shows_video(NBS/rel)]
    for rel in with_video:    # every video a notebook shows survives into its page
        assert videos.get(site['notebooks'][rel]), f'{rel} shows a video but its page has no <video>'
    if not videos: pytest.skip('no notebook shows a video')
    for path, vids in videos.items():
        for v in vids:
            assert v['error'] is None, f'{path}: video error {v}'
            assert v['duration'] and v['duration'] > 0 and v['duration'] != float('inf'), f'{path}: video duration {v}'
            assert isinstance(v['played'], (int, float)) and v['played'] > 0, f'{path}: video does not play {v}'

def test_sidebar_links_resolve(visits, site, server):
    links = {u.split('#')[0] for v in visits.values() for u in v['sidebar']}
    assert links, 'the sidebar has no links'
    for u in sorted(links):
        assert urlparse(u).netloc == urlparse(server).netloc, f'sidebar link leaves the site: {u}'
        with urllib.request.urlopen(u) as r: assert r.status == 200, u
    listed = {urlparse(u).path.lstrip('/') for u in links}
    for page in list(site['notebooks'].values()) + [site['api']]:
        if page != 'index.html': assert page in listed, f'{page} is not in the sidebar'

def test_search_finds_pages(browser, server):
    browser.get(urljoin(server, 'search.html?q=reward'))
    n = _wait(browser, "return document.querySelectorAll('#search-results li, ul.search li').length",
              'search results for "reward"')
    assert n > 0
    browser.save_screenshot(str(SHOTS/'search.png'))

def test_api_reference_covers_spec(visits, site):
    "Every spec symbol importable from its public module is documented; one that is not, the page says is missing."
    text = visits[site['api']]['text']
    for mod, names in SPEC_SYMBOLS.items():
        try: module = importlib.import_module(mod)
        except Exception: module = None
        for name in names:
            documented = re.search(rf'^{re.escape(name)}\b', text, re.M)
            if getattr(module, name, None) is not None: assert documented, f'{mod}.{name} is not documented on {site["api"]}'
            elif not documented: assert mod in text and 'missing' in text.lower(), f'{site["api"]} does not say {mod}.{name} is missing'


class _Ids(html.parser.HTMLParser):
    "The ids (and <a name>s) of a page: what a #fragment can point at."
    def __init__(self):
        super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])

def test_links_and_anchors_resolve(visits, server):
    "Every in-site link opens a page, and every #anchor it names exists on that page; no source link ends in #LNone."
    host, ids, bad = urlparse(server).netloc, {}, []
    for path, v in visits.items():
        for url in v['links']:
            u = urlparse(url)
            if u.scheme in ('http', 'https') and u.netloc != host:
                if re.search(r'#L(None)?$', url): bad.append(f'{path}: source link without a line: {url}')
                continue
            if u.netloc != host: continue
            page = u.path if not u.path.endswith('/') else u.path + 'index.html'
            if page not in ids:
                try:
                    with urllib.request.urlopen(urljoin(server, page.lstrip('/'))) as r:
                        p = _Ids(); p.feed(r.read().decode('utf-8', 'replace')); ids[page] = p.ids
                except Exception as e:
                    ids[page] = None; bad.append(f'{path}: link to {page} fails ({e})')
            frag = unquote(u.fragment)
            if frag and ids[page] is not None and frag not in ids[page]:
                bad.append(f'{path}: link to {page}#{frag}: no such anchor')
    assert ids, 'no in-site links found'
    assert not bad, f'{len(bad)} broken links:\n' + '\n'.join(sorted(set(bad))[:40])

def test_source_links_point_at_definitions(visits):
    "Every show_doc entry links its source, and the line it names is the one that defines the symbol."
    bad = []
    for path, v in visits.items():
        bad += [f'{path}: show_doc of {h!r} has no source link' for h in v['showdoc_without_source']]
    for f in sorted(SITE.rglob('*.html')):
        for href in re.findall(r'class="showdoc-source" href="([^"]+)"', f.read_text()):
            m = re.search(r'/blob/[^/]+/(.+?)#L(\d+)$', href)
            if not m: bad.append(f'{f.name}: source link {href} names no line'); continue
            src = ROOT/m.group(1)
            if not src.is_file(): bad.append(f'{f.name}: source link {href}: no {m.group(1)} in the project'); continue
            lines = src.read_text().splitlines()
            line = lines[int(m.group(2)) - 1].strip() if 0 < int(m.group(2)) <= len(lines) else ''
            if not re.match(r'(async\s+def|def|class)\b|@', line):
                bad.append(f'{f.name}: {href} points at {line[:60]!r}, not a definition')
    assert not bad, '\n'.join(bad[:40])

def test_no_build_paths_or_main_module(visits):
    "Nothing on a page shows where the site was built, or nbdev's `__main__.` qualifiers."
    root = str(ROOT.resolve())
    for path, v in visits.items():
        leaks = [s for s in BUILD_PATHS + [root] if s in v['body_text']]
        for s in leaks:
            i = v['body_text'].index(s)
            pytest.fail(f'{path} shows {s!r}: ...{v["body_text"][max(0, i - 60):i + 60]!r}...')

def test_docstrings_keep_their_stars(visits):
    "A `*` in a docstring (`*args`, `n * m`) is shown as a star, not taken for the end of the italics."
    for path, v in visits.items():
        assert not v['stray_stars'], f'{path}: paragraphs with a stray *: {v["stray_stars"]}'

def test_wide_content_fits_or_scrolls(visits, phone_visits):
    """At 1280 px and at 400 px, every display equation, code block, table and figure fits the content
    column, or scrolls in its own box with a visible scroll bar; at 1280 px the column is wide."""
    problems = []
    for width, vs in ((WIDE, visits), (PHONE, phone_visits)):
        for path, v in vs.items():
            problems += [f'{path} at {width} px: {b}' for b in v['overflow']['bad']]
    assert not problems, f'{len(problems)} blocks cut off:\n' + '\n'.join(problems[:40])
    for path, v in visits.items():
        assert v['overflow']['column'] >= 880, f'{path}: the content column is {v["overflow"]["column"]} px at {WIDE} px'

def test_figures_enlarge_on_click(visits, browser, server):
    "A click on a figure opens it over the page, at least as large as in the column; Esc closes it."
    page = next((p for p, v in visits.items() if v['images']), None)
    if page is None: pytest.skip('no figure on the site')
    browser.get(urljoin(server, page))
    _wait(browser, "return document.readyState === 'complete'", f'{page} to load')
    img = browser.execute_script("return document.querySelector('.cell_output img')")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", img)
    shown = browser.execute_script("return arguments[0].getBoundingClientRect().width", img)
    browser.execute_script("arguments[0].click()", img)
    big = _wait(browser, "const b = document.querySelector('#simscaleai-lightbox.open img');"
                         "return b && b.complete && b.naturalWidth ? b.getBoundingClientRect().width : 0", 'the enlarged figure')
    time.sleep(0.2)
    browser.save_screenshot(str(SHOTS/'figure-enlarged.png'))
    assert big >= shown - 1, f'{page}: the enlarged figure ({big} px) is smaller than in the column ({shown} px)'
    browser.execute_script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
    assert not browser.execute_script("return !!document.querySelector('#simscaleai-lightbox.open')"), 'Esc does not close it'
