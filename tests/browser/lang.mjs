// Shared by the browser tests: the check that every text on screen follows the chosen language.

// Runs in the page: what on screen does not follow `lang`. English: no CJK character in any
// visible text, title or placeholder (the language switch excepted). Chinese: every visible
// label-like element (buttons, headings, table heads, terms, toasts, banners, badges) that has
// Latin letters also has Chinese, unless it is one of the few names kept as they are.
export function offLanguage(lang) {
  const CJK = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/;
  const KEPT = /^(NEWS2|MQTT|SpO₂|CSV|HTTP|ID)$/;
  const visible = (el) => el && el.checkVisibility && el.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true });
  const skip = (el) => el.closest('.lang, .raw, .data');
  const bad = [];
  if (lang === 'en') {
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (n.textContent.trim() && CJK.test(n.textContent) && !skip(el) && visible(el)) bad.push(el.tagName + ': ' + n.textContent.trim());
    }
    if (CJK.test(document.title)) bad.push('title: ' + document.title);
    document.querySelectorAll('[placeholder]').forEach((el) => { if (visible(el) && CJK.test(el.placeholder)) bad.push('placeholder: ' + el.placeholder); });
  } else {
    const sel = 'button, th, dt, label, h1, h2, h3, .toast, .banner, .state, .prio, .pill, .figure .label, .confirm b, .outcome, .none, .empty, .hint, .count, .error';
    document.querySelectorAll(sel).forEach((el) => {
      if (skip(el) || !visible(el)) return;
      const text = el.textContent.trim();
      if (!/[A-Za-z]/.test(text) || CJK.test(text) || KEPT.test(text)) return;
      bad.push(el.tagName + '.' + el.className + ': ' + text);
    });
    if (!CJK.test(document.title)) bad.push('title: ' + document.title);
    document.querySelectorAll('[placeholder]').forEach((el) => { if (visible(el) && el.placeholder && !CJK.test(el.placeholder)) bad.push('placeholder: ' + el.placeholder); });
  }
  return bad;
}
