"""The schema as code: named, append-only steps applied whenever the database opens.

Never edit a step that has shipped; add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("crosscurrent")


@migrations()
def m001_create_articles(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            canonical_url TEXT NOT NULL UNIQUE,
            domain TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT,
            site TEXT,
            author TEXT,
            published TEXT,
            language TEXT,
            text TEXT NOT NULL,
            word_count INTEGER NOT NULL DEFAULT 0,
            captured_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            story_id INTEGER,
            source_id INTEGER
        );
        CREATE INDEX idx_articles_content_hash ON articles(content_hash);
        CREATE INDEX idx_articles_captured_at ON articles(captured_at);
        CREATE INDEX idx_articles_site ON articles(site);
        CREATE INDEX idx_articles_story ON articles(story_id);

        -- Raw HTML, compressed, so extraction can be re-run when it improves.
        CREATE TABLE pages (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            html_gz BLOB NOT NULL,
            extractor_version TEXT NOT NULL
        );

        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            is_headline INTEGER NOT NULL DEFAULT 0,
            speaker TEXT,
            polarity TEXT NOT NULL DEFAULT 'asserts',
            proposition TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX idx_claims_article ON claims(article_id);
        CREATE INDEX idx_claims_text_hash ON claims(text_hash);

        -- One vector per distinct text and model: the same sentence is never embedded twice.
        CREATE TABLE embeddings (
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, text_hash)
        );

        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            other_claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            label TEXT NOT NULL CHECK (label IN ('supports', 'disputes', 'related')),
            confidence REAL NOT NULL,
            reason TEXT NOT NULL,
            similarity REAL NOT NULL,
            dismissed_at TEXT,
            UNIQUE (claim_id, other_claim_id)
        );
        CREATE INDEX idx_links_other ON links(other_claim_id);
        CREATE INDEX idx_links_label ON links(label, confidence);

        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            title TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """
    )
    db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    db["claims"].enable_fts(["text"], create_triggers=True, tokenize="porter")


@migrations()
def m002_create_pairing(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            origin TEXT,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            last_used_at TEXT,
            revoked_at TEXT
        );
        -- A browser asking to pair; the reader approves or refuses it in the companion.
        CREATE TABLE pair_requests (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            origin TEXT,
            poll_hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused', 'collected')),
            token_id INTEGER REFERENCES tokens(id),
            created_at TEXT NOT NULL
        );
        -- One-time codes shown by the companion or `crosscurrent pair --code`, stored hashed.
        CREATE TABLE pair_codes (
            code_hash TEXT PRIMARY KEY,
            expires_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m003_create_article_anchors(db: Database) -> None:
    """Names and figures per article, for telling which articles cover the same event."""
    from server.anchors import anchors

    db.executescript(
        """
        CREATE TABLE article_anchors (
            anchor TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            PRIMARY KEY (anchor, article_id)
        ) WITHOUT ROWID;
        CREATE INDEX idx_article_anchors_article ON article_anchors(article_id);
        -- How many articles name each anchor, kept by triggers so rarity costs one lookup.
        CREATE TABLE anchor_counts (
            anchor TEXT PRIMARY KEY,
            articles INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TRIGGER article_anchors_counted AFTER INSERT ON article_anchors BEGIN
            INSERT INTO anchor_counts (anchor, articles) VALUES (new.anchor, 1)
                ON CONFLICT (anchor) DO UPDATE SET articles = articles + 1;
        END;
        CREATE TRIGGER article_anchors_uncounted AFTER DELETE ON article_anchors BEGIN
            UPDATE anchor_counts SET articles = articles - 1 WHERE anchor = old.anchor;
        END;
        """
    )
    rows = db.execute("SELECT id, coalesce(title, '') || char(10) || text FROM articles").fetchall()
    db.conn.executemany(
        "INSERT OR IGNORE INTO article_anchors (anchor, article_id) VALUES (?, ?)",
        [(anchor, article_id) for article_id, text in rows for anchor in anchors(text)],
    )


@migrations()
def m004_article_pairs_and_word_counts(db: Database) -> None:
    """How each article relates to earlier ones as a whole, and how many articles use each word (the
    rarity that weighs word overlap). Pairs are filled by captures; `crosscurrent reindex` fills them for
    articles stored before this step."""
    from server.relatedness import words

    db.executescript(
        """
        CREATE TABLE article_pairs (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            other_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            anchors REAL NOT NULL,
            words REAL NOT NULL,
            same_story INTEGER NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (article_id, other_id)
        ) WITHOUT ROWID;
        CREATE INDEX idx_article_pairs_other ON article_pairs(other_id);
        CREATE TABLE word_counts (
            word TEXT PRIMARY KEY,
            articles INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- What an upgrade leaves to do ('reindex': articles stored before this step have no pairs).
        CREATE TABLE upgrade_notes (note TEXT PRIMARY KEY);
        """
    )
    if db.execute("SELECT count(*) FROM articles").fetchone()[0]:
        db.execute("INSERT INTO upgrade_notes (note) VALUES ('reindex')")
    frequency: dict[str, int] = {}
    for title, text in db.execute("SELECT title, text FROM articles"):
        for word in words(title, text):
            frequency[word] = frequency.get(word, 0) + 1
    db.conn.executemany("INSERT INTO word_counts (word, articles) VALUES (?, ?)", frequency.items())


@migrations()
def m005_pairing_guard(db: Database) -> None:
    """Wrong one-time codes counted, and code redemption locked after too many of them."""
    db.executescript(
        """
        CREATE TABLE pair_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT
        );
        """
    )


@migrations()
def m006_article_tags(db: Database) -> None:
    """Tags an imported article carried in the tool it came from (Pocket, Wallabag, bookmarks...), and the
    addresses an import listed for articles stored under another one (after a redirect or the page's own
    canonical link), so a second run of the import skips them without fetching."""
    db.executescript(
        """
        CREATE TABLE article_tags (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (article_id, tag)
        ) WITHOUT ROWID;
        CREATE INDEX idx_article_tags_tag ON article_tags(tag);
        CREATE TABLE imported_urls (
            canonical_url TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE
        ) WITHOUT ROWID;
        CREATE INDEX idx_imported_urls_article ON imported_urls(article_id);
        """
    )


@migrations()
def m007_place_anchors_and_article_vectors(db: Database) -> None:
    """Each article's meaning as one vector (the mean of its claims' vectors, per model), compared between
    English articles; and anchors now include the places an article names in any language and large
    figures read with their scale word. Articles stored before have neither until a reindex, which
    `serve` asks for."""
    db.executescript(
        """
        CREATE TABLE article_vectors (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (article_id, model)
        ) WITHOUT ROWID;
        """
    )
    if db.execute("SELECT count(*) FROM articles").fetchone()[0]:
        db.execute("INSERT OR IGNORE INTO upgrade_notes (note) VALUES ('reindex')")


@migrations()
def m008_forgotten_claims(db: Database) -> None:
    """The claims deleted since the claim index's saved graph was written: its searches pass over them
    until the next merge drops them from the graph (the index then clears them here). And claim ids are
    no longer given again once deleted (SQLite gives the newest row's id to the next row): the graph
    knows claims by id, and one given again would be taken for the forgotten claim it still holds."""
    db.executescript(
        """
        CREATE TABLE forgotten_claims (claim_id INTEGER PRIMARY KEY);
        CREATE TRIGGER claims_forgotten AFTER DELETE ON claims BEGIN
            INSERT OR IGNORE INTO forgotten_claims (claim_id) VALUES (old.id);
        END;
        CREATE TABLE claim_id_mark (last INTEGER NOT NULL);
        INSERT INTO claim_id_mark (last) SELECT coalesce(max(id), 0) FROM claims;
        CREATE TRIGGER claims_marked AFTER INSERT ON claims WHEN new.id > (SELECT last FROM claim_id_mark) BEGIN
            UPDATE claim_id_mark SET last = new.id;
        END;
        """
    )


def migrate(db: Database) -> None:
    migrations.apply(db)
