// The popup's states as DOM. Every function returns a node; popup.js puts it on screen.
import { el, formatDate, plural, safeHttpUrl } from "./dom.js";

const LABEL_TEXT = { supports: "supports", disputes: "disputes", related: "related" };
const STANCE_TEXT = { supports: "backs this headline", disputes: "disputes this headline" };

function label(name, count) {
  const text = count === undefined ? LABEL_TEXT[name] : `${count} ${LABEL_TEXT[name]}`;
  return el("span", { className: `label label-${name}`, text });
}

function outletLine(...parts) {
  return parts.filter(Boolean).join(" · ");
}

function externalLink(text, href, className) {
  const safe = safeHttpUrl(href);
  if (!safe) return el("span", { className, text });
  return el("a", { className, text, attrs: { href: safe, target: "_blank", rel: "noopener noreferrer" } });
}

export function statusView({ tone, title, body, actions = [], busy = false }) {
  return el(
    "section",
    { className: `status status-${tone}`, attrs: { "data-state": tone } },
    busy ? el("div", { className: "spinner", attrs: { "aria-hidden": "true" } }) : null,
    el("h1", { className: "status-title", text: title }),
    body ? el("p", { className: "status-body", text: body }) : null,
    actions.length ? el("div", { className: "actions" }, actions) : null,
  );
}

export function button(text, onClick, { primary = false } = {}) {
  return el("button", { className: primary ? "button primary" : "button", text, attrs: { type: "button" }, on: { click: onClick } });
}

/** One card per claim of this page, with every earlier claim that disputes it (most confident first). */
function contradictionCard(links, article) {
  return el(
    "li",
    { className: "card card-disputes" },
    el("div", { className: "card-head" }, label("disputes")),
    el("p", { className: "who", text: outletLine("This page", article.site || article.domain, formatDate(article.published)) }),
    el("blockquote", { className: "quote", text: links[0].claim?.text ?? "" }),
    links.map((link) => {
      const other = link.other ?? {};
      const otherArticle = other.article ?? {};
      return el(
        "div",
        { className: "earlier" },
        el(
          "p",
          { className: "who" },
          el("span", { text: outletLine(readWhen(otherArticle, article), otherArticle.site, formatDate(otherArticle.published)) }),
          el("span", { className: "confidence", text: confidenceText(link.confidence) }),
        ),
        el("blockquote", { className: "quote quote-other" }, externalLink(other.text ?? "", otherArticle.url, "quote-link")),
        link.reason ? el("p", { className: "reason", text: link.reason }) : null,
      );
    }),
  );
}

/** "Read earlier" or "Read later": when the reader saw the other article, relative to this page. */
function readWhen(other, article) {
  if (!other.captured_at || !article.captured_at) return "Other report";
  return other.captured_at <= article.captured_at ? "Read earlier" : "Read later";
}

function groupByClaim(links) {
  const groups = new Map();
  for (const link of links) {
    const key = link.claim?.id ?? link.claim?.text ?? link.id;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(link);
  }
  for (const group of groups.values()) group.sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
  return [...groups.values()];
}

function confidenceText(value) {
  return typeof value === "number" ? `${Math.round(value * 100)}% sure` : "";
}

/**
 * Per other article, how many of this page's claims it supports (counted in claims, like the summary line)
 * and how many of the contradictions shown come from it, so the numbers beside an article agree with the
 * summary and the contradictions above it.
 */
function labelsByArticle(claims, contradictions) {
  const counts = new Map();
  const add = (id, name) => {
    const forArticle = counts.get(id) ?? {};
    forArticle[name] = (forArticle[name] ?? 0) + 1;
    counts.set(id, forArticle);
  };
  for (const claim of claims ?? []) {
    const supporting = new Set((claim.matches ?? []).filter((m) => m.label === "supports" && !m.dismissed)
      .map((m) => m.other?.article?.id).filter((id) => id !== undefined));
    supporting.forEach((id) => add(id, "supports"));
  }
  for (const link of contradictions ?? []) {
    const id = link.other?.article?.id;
    if (id !== undefined && !link.dismissed) add(id, "disputes");
  }
  return counts;
}

function storyArticle(article, labels) {
  const counts = labels.get(article.id) ?? {};
  return el(
    "li",
    { className: "story-article" },
    externalLink(article.title || article.url, article.url, "article-link"),
    // Why it is listed, in words, on the outlet's line ("shares names Ostrand, Vale and 31% word overlap").
    el("span", { className: "article-meta", text: outletLine(article.site || article.domain, formatDate(article.published), article.reason), attrs: { title: article.reason ?? "" } }),
    el("span", { className: "labels" },
      // The article as a whole, judged against this page's headline.
      article.stance ? el("span", { className: `label label-${article.stance.label}`, text: STANCE_TEXT[article.stance.label], attrs: { title: article.stance.reason ?? "" } }) : null,
      Object.keys(LABEL_TEXT).filter((name) => counts[name]).map((name) => label(name, counts[name]))),
  );
}

function storyBlock(story, labels, articles = story.articles ?? [], { heading } = {}) {
  const all = story.articles ?? [];
  const titledByArticle = all.length === 1 && all[0].title === story.title;
  return el(
    "li",
    { className: "story" },
    // A story of one earlier article is titled after it: say it once, on the article.
    titledByArticle ? null : el("h3", { className: "story-title", text: heading ?? (story.title || "Untitled story") }),
    el("p", { className: "story-meta", text: outletLine(titledByArticle ? "Same story" : "", plural(story.article_count ?? all.length, "article", "articles"), plural(story.site_count ?? 0, "outlet", "outlets")) }),
    el("ul", { className: "story-articles" }, articles.map((article) => storyArticle(article, labels))),
  );
}

// What the popup shows before "More": it must fit Chromium's 600 px popup with the button in view.
const TOP_STORY_ARTICLES = 2;

/**
 * The server's capture answer: a summary line, the top contradiction, related coverage, then the rest
 * folded under "More". The "Open in Crosscurrent" button sits below the scrolling part, always in view.
 */
export function answerView(reply, { onOpen }) {
  const data = reply.data ?? {};
  const article = data.article ?? {};
  const claims = data.claims ?? [];
  const contradictions = data.contradictions ?? [];
  const related = data.related ?? [];
  const labels = labelsByArticle(claims, contradictions);
  // Counted in claims of this page, not in links: one claim backed by three articles is one supported claim.
  const supported = claims.filter((claim) => (claim.matches ?? []).some((m) => m.label === "supports" && !m.dismissed)).length;
  const disputed = groupByClaim(contradictions);

  const summary = [plural(claims.length, "claim", "claims")];
  if (supported) summary.push(`${supported} supported`);
  if (disputed.length) summary.push(`${disputed.length} disputed`);
  if (related.length) summary.push(plural(related.length, "related story", "related stories"));

  // The top contradiction is the most confident earlier claim against this page's most disputed claim.
  const [topGroup, ...otherGroups] = disputed;
  const moreGroups = topGroup && topGroup.length > 1 ? [topGroup.slice(1), ...otherGroups] : otherGroups;
  const [topStory, ...otherStories] = related;
  const topArticles = (topStory?.articles ?? []).slice(0, TOP_STORY_ARTICLES);
  const restOfTopStory = (topStory?.articles ?? []).slice(TOP_STORY_ARTICLES);

  const more = [];
  if (moreGroups.length) {
    more.push(
      el("h2", { className: "section-title section-disputes", text: "More contradictions" }),
      el("ul", { className: "cards" }, moreGroups.map((links) => contradictionCard(links, article))),
    );
  }
  if (restOfTopStory.length || otherStories.length) {
    more.push(
      el("h2", { className: "section-title", text: "More related coverage" }),
      el(
        "ul",
        { className: "stories" },
        restOfTopStory.length ? storyBlock(topStory, labels, restOfTopStory, { heading: `More from “${topStory.title || "this story"}”` }) : null,
        otherStories.map((story) => storyBlock(story, labels)),
      ),
    );
  }
  const hidden = [
    moreGroups.flat().length ? plural(moreGroups.flat().length, "contradiction", "contradictions") : "",
    otherStories.length ? plural(otherStories.length, "story", "stories") : "",
    restOfTopStory.length ? plural(restOfTopStory.length, "more report", "more reports") : "",
  ].filter(Boolean);

  return el(
    "section",
    { className: "answer", attrs: { "data-state": reply.state } },
    el(
      "div",
      { className: "answer-body" },
      el("h1", { className: "article-title", text: article.title || article.url || "Untitled", attrs: { title: article.title || null } }),
      el(
        "p",
        { className: "article-outlet" },
        reply.state === "duplicate" ? el("span", { className: "tag tag-saved", text: "Already saved" }) : el("span", { className: "tag tag-new", text: "Saved" }),
        el("span", { text: outletLine(article.site || article.domain, formatDate(article.published), article.author) }),
      ),
      el("p", { className: "summary", text: summary.join(" · ") }),
      topGroup ? el("h2", { className: "section-title section-disputes", text: disputed.length > 1 ? `Top contradiction (of ${disputed.length})` : "Contradiction" }) : null,
      topGroup ? el("ul", { className: "cards" }, contradictionCard(topGroup.slice(0, 1), article)) : null,
      el("h2", { className: "section-title", text: "Related coverage" }),
      topStory
        ? el("ul", { className: "stories" }, storyBlock(topStory, labels, topArticles))
        : el("p", { className: "empty", text: "Nothing earlier on this story yet. Crosscurrent will link what you read next." }),
      more.length
        ? el("details", { className: "more" }, el("summary", { className: "more-summary", text: `More: ${hidden.join(", ")}` }), more)
        : null,
    ),
    el("div", { className: "actions footer-actions" }, button("Open in Crosscurrent", onOpen, { primary: true })),
  );
}
