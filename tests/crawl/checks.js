// What a person would stumble on, measured on the rendered page (tests/crawl/crawler.py runs this).
// Returns a list of {kind, detail}; an empty list is a page without these defects.
() => {
  const found = [];
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += `#${el.id}`;
    else if (el.classList.length) name += `.${[...el.classList].slice(0, 2).join(".")}`;
    const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? `${name} "${text}"` : name;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  };

  // 1. The page never scrolls sideways.
  const root = document.scrollingElement || document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    const culprits = [...document.querySelectorAll("body *")].filter((el) => {
      const rect = el.getBoundingClientRect();
      return rect.right > root.clientWidth + 1 && visible(el) && getComputedStyle(el).position !== "fixed";
    }).filter((el, _, all) => !all.includes(el.parentElement)).slice(0, 3).map(describe);
    found.push({kind: "sideways-scroll", detail: `${root.scrollWidth}px wide in ${root.clientWidth}px: ${culprits.join("; ")}`});
  }

  // 2. What scrolls sideways inside the page is a labelled, focusable region with a visible cue (.table-wrap).
  for (const el of document.querySelectorAll("body *")) {
    if (["TEXTAREA", "SELECT", "INPUT", "PRE", "CODE"].includes(el.tagName) || !visible(el)) continue;
    const style = getComputedStyle(el);
    if (!["auto", "scroll"].includes(style.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    const labelled = el.getAttribute("role") === "region"
      && (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) && el.tabIndex >= 0;
    if (!labelled || !el.classList.contains("table-wrap")) {
      found.push({kind: "unlabelled-scroll", detail: `${describe(el)} scrolls sideways without role=region, a label, tabindex and .table-wrap`});
    }
  }

  // 2b. On a desktop, a work table (.table-dense: the officer's panel table; #result_list: every list of the
  // back office) shows every column: the recommendation and the rank were off to the side at 1366 px, and so
  // were the amounts, states and dates of 14 admin lists in English, 19 in French.
  if (window.innerWidth >= 1280) {
    for (const table of document.querySelectorAll(".table-dense, #result_list")) {
      const box = table.closest(".table-wrap") || table.parentElement;
      if (box.scrollWidth > box.clientWidth + 1) {
        found.push({kind: "work-table-cut", detail: `${describe(table)} is ${box.scrollWidth}px wide in ${box.clientWidth}px`});
      }
    }
  }

  // 3. No text stacked letter by letter in a box narrower than a few characters.
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ").trim();
    if (!own) continue;
    const longest = Math.max(...own.split(/\s+/).map((word) => word.length));
    if (longest < 4 || !visible(el)) continue;
    const rect = el.getBoundingClientRect();
    const size = parseFloat(getComputedStyle(el).fontSize) || 16;
    if (rect.width < size * 2.5 && rect.height > size * 3.5) {
      found.push({kind: "stacked-letters", detail: `${describe(el)} is ${Math.round(rect.width)}px wide, ${Math.round(rect.height)}px high`});
    }
  }

  // 4. No action hidden below the fold of a box that scrolls on its own (the page's main action first).
  for (const box of document.querySelectorAll("body *")) {
    const style = getComputedStyle(box);
    if (!["auto", "scroll"].includes(style.overflowY) || box.scrollHeight <= box.clientHeight + 1) continue;
    if (["TEXTAREA", "SELECT"].includes(box.tagName) || !visible(box)) continue;
    const limit = box.getBoundingClientRect().top + box.clientHeight;
    for (const action of box.querySelectorAll("button, [type=submit], a.button")) {
      if (visible(action) && action.getBoundingClientRect().top >= limit) {
        found.push({kind: "hidden-action", detail: `${describe(action)} is inside ${describe(box)}, which scrolls on its own`});
        break;
      }
    }
  }

  // 5. The texts a person reads on the controls, headings and labels, for the language check. Text marked as
  // another language than the page's (a mail's own words, a name in its language: lang="en" on a French page) is
  // not the page's to translate: left out of both.
  const primary = (code) => (code || "").toLowerCase().split("-")[0];
  const pageLanguage = primary(document.documentElement.lang);
  const inOtherLanguage = (el) => {
    const marked = el.closest("[lang]");
    return Boolean(marked) && marked !== document.documentElement && primary(marked.lang) !== pageLanguage;
  };
  const chrome = [...document.querySelectorAll(
    "label, th, button, legend, h1, h2, h3, h4, dt, caption, summary, option, nav a, a.button, .help, .hint, title"
  )].filter((el) => !inOtherLanguage(el)).map((el) => (el.innerText || el.textContent || "").trim()).filter(Boolean);
  let text = document.body.innerText;
  const others = [...document.body.querySelectorAll("[lang]")].filter((el) => inOtherLanguage(el)
    && !(el.parentElement && inOtherLanguage(el.parentElement)));
  for (const el of others) {
    const own = el.innerText;
    if (own) text = text.replace(own, "\n");
  }
  return {found, chrome, text, title: document.title};
}
