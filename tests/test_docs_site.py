"""The docs site in a real browser.

Builds the site if docs/ is missing or older than the notebooks (`python tools/build_docs.py`),
serves docs/ from 127.0.0.1 on a free port and opens every page in Debian's headless Chromium
(driven by selenium through Debian's chromedriver; nothing is downloaded). Checks: each page loads
with no console error, no failed request and no request leaving this machine; no raw directive text
shows; equations are typeset by MathJax; videos have a duration and play; the sidebar lists every
notebook and its links resolve; search finds pages; the API reference documents the spec's symbols.
Screenshots go to docs/_screenshots/ (paths printed; run pytest with -s to see them).
"""
import http.server, json, os, re, shutil, subprocess, sys, tempfile, threading, time, urllib.request
from functools import partial
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

BUILD = Path(__file__).resolve().parents[1]/'tools'/'build_docs.py'
ROOT = Path(os.environ.get('SIMSCALEAI_DOCS_ROOT') or BUILD.parents[1])   # another project tree: for trying the build
SITE = ROOT/'docs'
NBS = ROOT/'nbs'
SHOTS = SITE/'_screenshots'
CHROMIUM, CHROMEDRIVER = '/usr/bin/chromium', '/usr/bin/chromedriver'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--window-size=1280,900', '--hide-scrollbars', '--autoplay-policy=no-user-gesture-required']
SPEC_SYMBOLS = {  # the spec's public API: (module, the notebook that writes it) -> symbols
    ('simscaleai.sim.core', '02_sim_core.ipynb'): ['make_env'],
    ('simscaleai.rl.rewards.rewards', '01_rewards.ipynb'): ['RewardFunction', 'DistanceReward', 'SuccessBonus',
                                                           'ActionPenalty', 'CompositeReward'],
    ('simscaleai.rl.agents.ppo', '02_ppo.ipynb'): ['PPOConfig', 'ActorCritic', 'RolloutBuffer', 'PPOAgent'],
    ('simscaleai.rl.evaluator', '03_evaluator.ipynb'): ['EvalConfig', 'evaluate_policy'],
}
VIDEO_NOTEBOOKS = ['02a_reach.ipynb', '02b_lift.ipynb', '02c_pick_place.ipynb', '03_evaluator.ipynb']   # chapters that show rollouts as videos
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

@pytest.fixture(scope='module')
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(Quiet, directory=str(SITE)))
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
    reqs, failed = [], []
    for entry in driver.get_log('performance'):
        msg = json.loads(entry['message'])['message']
        m, p = msg.get('method'), msg.get('params', {})
        if m == 'Network.requestWillBeSent': reqs.append(p['request']['url'])
        elif m == 'Network.responseReceived' and p['response']['status'] >= 400:
            failed.append(f"{p['response']['url']} -> HTTP {p['response']['status']}")
        elif m == 'Network.loadingFailed' and not p.get('canceled'):
            failed.append(f"{p.get('requestId')} ({p.get('type')}) -> {p.get('errorText')}")
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
    info['sidebar'] = driver.execute_script(
        "return Array.from(document.querySelectorAll('.sidebar-tree a.reference')).map(a => a.href)")
    info['console'] = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    info['requests'], info['failed'] = _network(driver)
    driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    driver.save_screenshot(str(SHOTS/f'{shot}.png'))
    for what, sel in (('video', 'video'), ('math', 'mjx-container[display="true"], mjx-container')):
        if driver.execute_script(f"return document.querySelector('{sel}') !== null"):
            driver.execute_script(f"document.querySelector('{sel}').scrollIntoView({{block: 'center', behavior: 'instant'}})")
            time.sleep(0.3)
            driver.save_screenshot(str(SHOTS/f'{shot}-{what}.png'))
    return info

@pytest.fixture(scope='module')
def visits(site, server, browser):
    "Every page of the site, visited once: {page path: what the browser saw}."
    paths = ['index.html'] + sorted(p for p in site['notebooks'].values() if p != 'index.html') + [site['api']]
    res = {p: _visit(browser, server, p, p[:-5].replace('/', '__')) for p in paths}
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
    if not videos:
        present = [nb for nb in VIDEO_NOTEBOOKS if (NBS/nb).exists()]
        if present: pytest.fail(f'no <video> on any page, though {present} exist (their rollouts should be shown)')
        pytest.skip('no video on the site yet, and neither the sim nor the evaluator notebook exists')
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
    "Once a module's notebook exists, every spec symbol of it is documented; before, the page says it is missing."
    text = visits[site['api']]['text']
    for (mod, nb), names in SPEC_SYMBOLS.items():
        for name in names:
            documented = re.search(rf'^{re.escape(name)}\b', text, re.M)
            if (NBS/nb).exists(): assert documented, f'{mod}.{name} is not documented on {site["api"]}'
            elif not documented: assert mod in text and 'missing' in text, f'{site["api"]} does not say {mod}.{name} is missing'
